"""scones.botocore_loader shares one botocore data loader among a process's sessions (the test
processes', the warm Airflow runner's): each session must still read the models as botocore
packages them, whatever another session did."""

from __future__ import annotations

from conftest import TEST_BUCKET


def test_a_session_reads_the_s3_model_as_packaged_after_another_used_s3(s3):
    import botocore.session

    # The first call of an operation on an S3 client strips '/{Bucket}' from that operation's
    # requestUri in the model its session loaded (botocore's handlers, in place).
    s3.put_object(Bucket=TEST_BUCKET, Key="k", Body=b"x")
    assert s3.meta.service_model.operation_model("PutObject").http["requestUri"] == "/{Key+}"

    other = botocore.session.get_session().get_service_model("s3")
    assert other.operation_model("PutObject").http["requestUri"] == "/{Bucket}/{Key+}"


#: In a fresh interpreter: how many JSON files botocore reads for a second session's S3 client.
SECOND_SESSION_READS = """
import sys
import boto3, botocore.loaders
{install}
reads = []
load_file = botocore.loaders.JSONFileLoader.load_file
botocore.loaders.JSONFileLoader.load_file = lambda self, path: reads.append(path) or load_file(self, path)
boto3.session.Session(region_name="us-east-1").client("s3")
before = len(reads)
boto3.session.Session(region_name="us-east-1").client("s3")
print(before, len(reads) - before)
"""


def _reads(install: str) -> tuple[int, int]:
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", SECOND_SESSION_READS.format(install=install)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    first, second = map(int, out.splitlines()[-1].split())  # Airflow may log to stdout before
    return first, second


def test_a_second_session_reads_no_json_once_the_loader_is_shared():
    first, second = _reads("")
    assert first > 0 and second > 0  # botocore's own loader: each session reads them again
    assert (
        _reads("from scones.botocore_loader import share_data_loader; share_data_loader(); share_data_loader()")[1] == 0
    )


def test_the_warm_airflow_runner_shares_the_loader():
    """Every hook of every task it runs makes a session (a sixth of its CPU went to parsing)."""
    first, second = _reads(
        "import io; from scones.localrun.airflow_runner import serve; serve(io.StringIO(), io.StringIO())"
    )
    assert first > 0 and second == 0
