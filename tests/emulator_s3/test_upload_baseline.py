"""The emulator's memory of multipart uploads does not grow in a long-running server.

In-process moto with the emulator's response wrappers (monkeypatched for this test only):
``_UPLOAD_BASELINE`` is what a CompleteMultipartUpload's 409 check reads; an entry must go
once its upload is completed, aborted, refused or gone.
"""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.s3.responses import S3Response

from scones.emulator.s3 import responses

BUCKET = "scones-baseline-tests"
PART = b"x" * (5 << 20)


@pytest.fixture
def s3(monkeypatch):
    monkeypatch.setattr(S3Response, "_key_response_post", responses._post(S3Response._key_response_post))
    wrap_abort = getattr(responses, "_abort", lambda method: method)  # (absent before aborts were tracked)
    monkeypatch.setattr(S3Response, "abort_multipart_upload", wrap_abort(S3Response.abort_multipart_upload))
    monkeypatch.setattr(responses, "_UPLOAD_BASELINE", {})
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


def upload(s3, key: str) -> tuple[str, list[dict]]:
    upload_id = s3.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]
    etag = s3.upload_part(Bucket=BUCKET, Key=key, UploadId=upload_id, PartNumber=1, Body=PART)["ETag"]
    return upload_id, [{"PartNumber": 1, "ETag": etag}]


def complete(s3, key: str, upload_id: str, parts: list[dict], **condition: str) -> None:
    s3.complete_multipart_upload(
        Bucket=BUCKET, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}, **condition
    )


def test_an_aborted_upload_is_forgotten(s3):
    upload_id, _ = upload(s3, "aborted")
    assert upload_id in responses._UPLOAD_BASELINE
    s3.abort_multipart_upload(Bucket=BUCKET, Key="aborted", UploadId=upload_id)
    assert responses._UPLOAD_BASELINE == {}


@pytest.mark.parametrize(
    ("written", "condition", "status"), [("during", {"IfNoneMatch": "*"}, 409), ("before", {"IfMatch": '"0123"'}, 412)]
)
def test_a_refused_completion_is_forgotten(s3, written: str, condition: dict, status: int):
    if written == "before":
        s3.put_object(Bucket=BUCKET, Key="refused", Body=b"there before the upload")
    upload_id, parts = upload(s3, "refused")
    if written == "during":  # a conflicting write: S3 answers 409, re-initiate the upload
        s3.put_object(Bucket=BUCKET, Key="refused", Body=b"written during the upload")
    with pytest.raises(ClientError) as exc:
        complete(s3, "refused", upload_id, parts, **condition)
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert responses._UPLOAD_BASELINE == {}


def test_a_completed_upload_is_forgotten_and_the_conflict_check_still_holds(s3):
    upload_id, parts = upload(s3, "done")
    complete(s3, "done", upload_id, parts, IfNoneMatch="*")
    assert responses._UPLOAD_BASELINE == {} and s3.head_object(Bucket=BUCKET, Key="done")["ContentLength"] == len(PART)


def test_an_upload_gone_from_its_bucket_is_forgotten_at_the_next_create(s3):
    from moto.s3.models import s3_backends

    abandoned, _ = upload(s3, "abandoned")
    s3_backends["123456789012"]["global"].abort_multipart_upload(BUCKET, abandoned)  # e.g. by a lifecycle rule
    live, _ = upload(s3, "live")
    assert set(responses._UPLOAD_BASELINE) == {live}
