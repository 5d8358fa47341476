"""Shared fixtures (the in-process ``s3`` and the tiers are the root conftest.py's).

- ``emulator``: one local AWS emulator process for the whole session (end-to-end tests).
- ``aws_env``: monkeypatched fake credentials so no test can ever reach real AWS.
- ``cifar_all_classes``: a synthetic CIFAR-100 archive, all 100 classes (ETL tests, both tiers).
- ``airflow_aws_connection``: Airflow's ``aws_default`` connection pointed at the emulator.
- :func:`wait_for_execution`: a Step Functions execution's description once it has ended.
- ``home``: a new folder PostgreSQL can use (also as root), removed afterwards.
- ``env``: the Celery stack's environment for unstarted servers (ports 5999 and 6999).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

# Airflow reads its configuration when first imported: give the test session its own
# AIRFLOW_HOME so no test writes to ~/airflow, and no example DAG loads. The xdist workers
# inherit the controller's; whoever made it removes it at exit (each run left one per process).
if "AIRFLOW_HOME" not in os.environ:
    os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="scones-test-airflow-")
    atexit.register(shutil.rmtree, os.environ["AIRFLOW_HOME"], ignore_errors=True)
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"

import pytest

from scones.emulator import LOCAL_CREDENTIALS, EmulatorProcess

# Fake credentials for the whole session (session fixtures run before aws_env): no test can
# reach a real AWS account, whatever the machine's configuration.
os.environ.update(LOCAL_CREDENTIALS)
os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
os.environ.pop("AWS_PROFILE", None)

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO_ROOT.parent / "shared" / "data" / "cifar-100-python-bikes.tar.gz"
TEST_REGION = "us-east-1"


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in LOCAL_CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AWS_DEFAULT_REGION", TEST_REGION)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


@pytest.fixture(scope="session")
def emulator():
    with EmulatorProcess() as emu:
        yield emu


@pytest.fixture
def emulator_session(emulator: EmulatorProcess):
    """boto3 clients that talk to the emulator: ``emulator_session.client("s3")``."""
    return emulator.session(TEST_REGION)


@pytest.fixture
def shared_tarball() -> Path:
    if not SHARED_DATA.exists():
        pytest.skip(f"shared CIFAR-100 subset not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def cifar_all_classes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """All 100 classes, 3 train and 1 test image each, in the official layout."""
    from tests.support.synthetic_cifar import write_cifar_archive

    return write_cifar_archive(tmp_path_factory.mktemp("cifar") / "cifar-100-python.tar.gz", 3, 1)


@pytest.fixture
def airflow_aws_connection(emulator: EmulatorProcess, monkeypatch: pytest.MonkeyPatch) -> None:
    """Airflow's ``aws_default`` connection pointed at the emulator (its endpoint_url extra)."""
    from tests.emulator_lambda.functions import aws_connection_uri

    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", aws_connection_uri(emulator.endpoint_url))


def wait_for_execution(sfn: Any, execution_arn: str, timeout: float = 30) -> dict[str, Any]:
    """DescribeExecution once the execution has ended, waited for by the product's own waiter."""
    from scones.workflow.executions import wait_for_executions

    wait_for_executions(sfn, [execution_arn], timeout=timeout, poll=0.05)
    return sfn.describe_execution(executionArn=execution_arn)


@pytest.fixture
def home():
    """A folder PostgreSQL can use when the tests run as root (it then runs as 'nobody')."""
    from tests.support.folders import postgres_usable_folder

    path = postgres_usable_folder("scones-servers-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def env(tmp_path):
    """The Celery stack's environment (its servers are not started)."""
    from scones.localrun.celery_stack import celery_env
    from scones.localrun.servers import PostgresServer, RedisServer

    postgres = PostgresServer(tmp_path / "postgres", port=5999)
    postgres.password = "pg-secret"
    redis = RedisServer(tmp_path / "redis", port=6999)
    return celery_env(tmp_path, "http://127.0.0.1:5000", postgres, redis, "http://127.0.0.1:8080", "127.0.0.1", 8080)
