"""The root conftest.py shares one botocore data loader among the test process's sessions: each
session must still read the models as botocore packages them, whatever another session did."""

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
