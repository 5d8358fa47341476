"""The emulator's S3 honours conditional writes as S3 does, and survives concurrent writes to one key.

Against the emulator process (the session's ``emulator`` fixture), through boto3.
"""

from __future__ import annotations

import os
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

BUCKET = "scones-emulator-s3-tests"


@pytest.fixture(scope="module")
def s3(emulator):
    client = emulator.session().client("s3", config=Config(max_pool_connections=40, retries={"max_attempts": 1}))
    try:
        client.create_bucket(Bucket=BUCKET)
    except client.exceptions.BucketAlreadyOwnedByYou:
        pass
    return client


def code(exc: pytest.ExceptionInfo[ClientError]) -> tuple[int, str]:
    return exc.value.response["ResponseMetadata"]["HTTPStatusCode"], exc.value.response["Error"]["Code"]


def test_if_none_match_creates_only_once(s3):
    key = f"once/{uuid.uuid4().hex}"
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"first", IfNoneMatch="*")
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"second", IfNoneMatch="*")
    assert code(exc) == (412, "PreconditionFailed")
    assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == b"first"


def test_if_match_swaps_only_the_version_read(s3):
    key = f"swap/{uuid.uuid4().hex}"
    etag = s3.put_object(Bucket=BUCKET, Key=key, Body=b"v1")["ETag"]
    new = s3.put_object(Bucket=BUCKET, Key=key, Body=b"v2", IfMatch=etag)["ETag"]
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"v3", IfMatch=etag)  # stale: v2 is there now
    assert code(exc) == (412, "PreconditionFailed")
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=BUCKET, Key=f"{key}-missing", Body=b"x", IfMatch=new)
    assert code(exc) == (404, "NoSuchKey")
    assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == b"v2"


def test_concurrent_conditional_writers_exactly_one_wins(s3):
    """moto alone checks then writes: two If-None-Match writers racing could both succeed."""
    for round_ in range(5):
        key = f"race/{uuid.uuid4().hex}"
        with ThreadPoolExecutor(24) as pool:
            outcomes = Counter(pool.map(lambda i, key=key: _create(s3, key, i), range(24)))
        assert outcomes["ok"] == 1, (round_, outcomes)
        assert outcomes[(412, "PreconditionFailed")] == 23, outcomes
        etag = s3.head_object(Bucket=BUCKET, Key=key)["ETag"]
        with ThreadPoolExecutor(24) as pool:
            swaps = Counter(pool.map(lambda i, key=key, etag=etag: _swap(s3, key, etag, i), range(24)))
        assert swaps["ok"] == 1 and swaps[(412, "PreconditionFailed")] == 23, swaps


def _create(s3, key: str, i: int):
    try:
        s3.put_object(Bucket=BUCKET, Key=key, Body=str(i).encode(), IfNoneMatch="*")
        return "ok"
    except ClientError as exc:
        return exc.response["ResponseMetadata"]["HTTPStatusCode"], exc.response["Error"]["Code"]


def _swap(s3, key: str, etag: str, i: int):
    try:
        s3.put_object(Bucket=BUCKET, Key=key, Body=f"swap {i}".encode(), IfMatch=etag)
        return "ok"
    except ClientError as exc:
        return exc.response["ResponseMetadata"]["HTTPStatusCode"], exc.response["Error"]["Code"]


def test_concurrent_puts_and_gets_of_one_key_all_succeed_last_writer_wins(s3):
    """moto closed a replaced object's buffer at once: readers and writers of it answered 500."""
    key = f"hot/{uuid.uuid4().hex}"
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"0")
    bodies = [os.urandom(50_000) for _ in range(8)]

    def hit(i: int) -> str:
        if i % 2:
            s3.put_object(Bucket=BUCKET, Key=key, Body=bodies[i % 8])
            return "put"
        s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
        return "get"

    with ThreadPoolExecutor(32) as pool:
        done = Counter(pool.map(hit, range(400)))  # any 500 raises here (no client retries)
    assert done == {"put": 200, "get": 200}
    final = s3.put_object(Bucket=BUCKET, Key=key, Body=b"last")["ETag"]
    assert s3.get_object(Bucket=BUCKET, Key=key)["ETag"] == final


def _multipart(s3, key: str) -> tuple[str, list[dict]]:
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]
    part = s3.upload_part(Bucket=BUCKET, Key=key, UploadId=upload, PartNumber=1, Body=b"p" * 1024)
    return upload, [{"PartNumber": 1, "ETag": part["ETag"]}]


def test_complete_multipart_upload_honours_if_match(s3):
    key = f"multi/{uuid.uuid4().hex}"
    old = s3.put_object(Bucket=BUCKET, Key=key, Body=b"old")["ETag"]
    upload, parts = _multipart(s3, key)
    with pytest.raises(ClientError) as exc:
        s3.complete_multipart_upload(
            Bucket=BUCKET,
            Key=key,
            UploadId=upload,
            MultipartUpload={"Parts": parts},
            IfMatch='"0123456789abcdef0123456789abcdef"',
        )
    assert code(exc) == (412, "PreconditionFailed")
    s3.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload, MultipartUpload={"Parts": parts}, IfMatch=old)
    assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == b"p" * 1024


def test_complete_multipart_upload_conflicts_when_the_key_changed_during_the_upload(s3):
    key = f"multi/{uuid.uuid4().hex}"
    upload, parts = _multipart(s3, key)
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"written meanwhile")
    with pytest.raises(ClientError) as exc:
        s3.complete_multipart_upload(
            Bucket=BUCKET, Key=key, UploadId=upload, MultipartUpload={"Parts": parts}, IfNoneMatch="*"
        )
    assert code(exc) == (409, "ConditionalRequestConflict")
    assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == b"written meanwhile"


def test_complete_multipart_upload_if_none_match_refuses_an_existing_key(s3):
    key = f"multi/{uuid.uuid4().hex}"
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"there before")
    upload, parts = _multipart(s3, key)
    with pytest.raises(ClientError) as exc:
        s3.complete_multipart_upload(
            Bucket=BUCKET, Key=key, UploadId=upload, MultipartUpload={"Parts": parts}, IfNoneMatch="*"
        )
    assert code(exc) == (412, "PreconditionFailed")
