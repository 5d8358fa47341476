"""Large S3 bodies, streamed to the state folder (scones.emulator.s3.streaming), are kept as small ones
are: written before S3 answers, back byte for byte after a kill -9; a refused one leaves nothing.

The emulator's streaming threshold is 1 MiB here (``SCONES_S3_STREAM_THRESHOLD``): a few MiB take
the large-object path.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.emulator_persistence.conftest import Restartable

MiB = 1024 * 1024
BUCKET = "scones-persistence-large"


@pytest.fixture
def restartable(tmp_path: Path) -> Iterator[Restartable]:
    world = Restartable(tmp_path / "aws-state", env={"SCONES_S3_STREAM_THRESHOLD": str(MiB)})
    yield world
    world.stop()


def _client(restartable: Restartable):
    return restartable.session().client("s3", config=Config(retries={"max_attempts": 1}))


def test_large_objects_streamed_to_the_folder_survive_a_kill_9(restartable: Restartable) -> None:
    s3 = _client(restartable)
    s3.create_bucket(Bucket=BUCKET)
    single = os.urandom(3 * MiB + 5)
    single_etag = s3.put_object(Bucket=BUCKET, Key="single.bin", Body=single)["ETag"]
    parts = [os.urandom(5 * MiB), os.urandom(2 * MiB)]
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key="joined.bin")["UploadId"]
    etags = [
        s3.upload_part(Bucket=BUCKET, Key="joined.bin", UploadId=upload, PartNumber=n, Body=p)["ETag"]
        for n, p in enumerate(parts, 1)
    ]
    joined_etag = s3.complete_multipart_upload(
        Bucket=BUCKET,
        Key="joined.bin",
        UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in enumerate(etags, 1)]},
    )["ETag"]
    pending = s3.create_multipart_upload(Bucket=BUCKET, Key="pending.bin")["UploadId"]
    part = os.urandom(2 * MiB)
    part_etag = s3.upload_part(Bucket=BUCKET, Key="pending.bin", UploadId=pending, PartNumber=1, Body=part)["ETag"]
    blobs = restartable.state_dir / "s3" / "blobs"
    sizes = sorted(b.stat().st_size for b in blobs.iterdir())
    # each body is one file of the folder (the received file itself, not a copy beside it)
    assert len(single) in sizes and sum(map(len, parts)) in sizes and len(part) in sizes

    restartable.crash()  # kill -9 right after the answers
    s3 = _client(restartable)
    got = s3.get_object(Bucket=BUCKET, Key="single.bin")
    assert (got["Body"].read(), got["ETag"]) == (single, single_etag)
    got = s3.get_object(Bucket=BUCKET, Key="joined.bin", Range="bytes=-100")
    assert got["Body"].read() == parts[1][-100:]
    got = s3.get_object(Bucket=BUCKET, Key="joined.bin")
    assert (got["Body"].read(), got["ETag"]) == (b"".join(parts), joined_etag)
    s3.complete_multipart_upload(
        Bucket=BUCKET,
        Key="pending.bin",
        UploadId=pending,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part_etag}]},
    )
    assert s3.get_object(Bucket=BUCKET, Key="pending.bin")["Body"].read() == part
    assert not [b.name for b in blobs.iterdir() if b.name.startswith("incoming-")]


def test_a_large_body_refused_for_its_digest_or_by_the_disk_leaves_nothing_in_the_folder(
    restartable: Restartable,
) -> None:
    import resource

    s3 = _client(restartable)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="kept.bin", Body=b"kept")
    blobs = restartable.state_dir / "s3" / "blobs"
    before = sorted(b.name for b in blobs.iterdir())
    data = os.urandom(3 * MiB)
    wrong = base64.b64encode(hashlib.md5(b"something else").digest()).decode()
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=BUCKET, Key="refused.bin", Body=data, ContentMD5=wrong)
    assert exc.value.response["Error"]["Code"] == "BadDigest"
    assert sorted(b.name for b in blobs.iterdir()) == before
    assert len(list((restartable.state_dir / "s3" / "keys").glob("*/*/*.pickle"))) == 1

    assert restartable.emulator.pid is not None
    resource.prlimit(restartable.emulator.pid, resource.RLIMIT_FSIZE, (2 * MiB, 2 * MiB))  # a disk nearly full
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=BUCKET, Key="refused.bin", Body=data)
    assert (exc.value.response["Error"]["Code"], exc.value.response["ResponseMetadata"]["HTTPStatusCode"]) == (
        "InternalError",
        500,
    )
    assert "nothing was stored" in exc.value.response["Error"]["Message"]
    assert sorted(b.name for b in blobs.iterdir()) == before

    restartable.crash()
    s3 = _client(restartable)
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]] == ["kept.bin"]


def _raw_put(restartable: Restartable, key: str, claimed: int, sent: int) -> socket.socket:
    """A PutObject sent by hand: ``claimed`` bytes announced, ``sent`` bytes written (boto3 never lies so)."""
    url = urlparse(restartable.emulator.endpoint_url)
    connection = socket.create_connection((url.hostname, url.port))
    connection.sendall(
        f"PUT /{BUCKET}/{key} HTTP/1.1\r\nHost: {url.netloc}\r\nContent-Length: {claimed}\r\n"
        f"Authorization: {_AUTH}\r\n\r\n".encode()
    )
    connection.sendall(os.urandom(sent))
    return connection


def _answer(connection: socket.socket, timeout: float) -> bytes:
    connection.settimeout(timeout)
    data = b""
    with contextlib.suppress(TimeoutError, ConnectionError):
        while chunk := connection.recv(65536):
            data += chunk
    connection.close()
    return data


_AUTH = "AWS4-HMAC-SHA256 Credential=testing/20200101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=x"


def test_a_body_shorter_than_its_content_length_is_incomplete_body_and_leaves_nothing(
    restartable: Restartable,
) -> None:
    s3 = _client(restartable)
    s3.create_bucket(Bucket=BUCKET)
    blobs = restartable.state_dir / "s3" / "blobs"
    connection = _raw_put(restartable, "short.bin", claimed=10 * MiB, sent=3 * MiB)
    connection.shutdown(socket.SHUT_WR)  # the client is done: 7 MiB never come
    answer = _answer(connection, timeout=30)
    assert answer.startswith(b"HTTP/1.1 400"), answer[:300]
    assert b"<Code>IncompleteBody</Code>" in answer and b"application/xml" in answer
    assert not list(blobs.iterdir())
    with pytest.raises(s3.exceptions.NoSuchKey):
        s3.get_object(Bucket=BUCKET, Key="short.bin")


def test_the_body_files_of_overwritten_and_deleted_versions_go_once_their_last_reader_is_done(
    restartable: Restartable,
) -> None:
    """A GET already streaming a version serves it whole while the key is overwritten and deleted;
    then no body file of a dropped version is left (moto's instance list kept every FakeKey)."""
    s3 = _client(restartable)
    s3.create_bucket(Bucket=BUCKET)
    blobs = restartable.state_dir / "s3" / "blobs"
    old = os.urandom(16 * MiB)  # more than the sockets' buffers: the answer is still being sent
    s3.put_object(Bucket=BUCKET, Key="model.bin", Body=old)
    reading = requests.get(
        f"{restartable.emulator.endpoint_url}/{BUCKET}/model.bin",
        stream=True,
        timeout=30,
        headers={"Authorization": _AUTH},
    )
    chunks = reading.iter_content(MiB)
    first = next(chunks)
    for _ in range(3):
        s3.put_object(Bucket=BUCKET, Key="model.bin", Body=os.urandom(3 * MiB))
    s3.delete_object(Bucket=BUCKET, Key="model.bin")
    assert first + b"".join(chunks) == old
    reading.close()
    assert _eventually(lambda: not list(blobs.iterdir())), sorted(b.name for b in blobs.iterdir())


def _eventually(condition: Callable[[], bool], seconds: float = 5) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def _sizes(blobs: Path) -> list[int]:
    return sorted(b.stat().st_size for b in blobs.iterdir())


def test_the_files_of_multipart_parts_go_once_completed_aborted_or_uploaded_again(restartable: Restartable) -> None:
    s3 = _client(restartable)
    s3.create_bucket(Bucket=BUCKET)
    blobs = restartable.state_dir / "s3" / "blobs"
    first, again, last = os.urandom(5 * MiB), os.urandom(5 * MiB), os.urandom(2 * MiB + 1)
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key="joined.bin")["UploadId"]
    s3.upload_part(Bucket=BUCKET, Key="joined.bin", UploadId=upload, PartNumber=1, Body=first)
    etags = [
        s3.upload_part(Bucket=BUCKET, Key="joined.bin", UploadId=upload, PartNumber=n, Body=p)["ETag"]
        for n, p in ((1, again), (2, last))  # part 1 uploaded again (a retry): the first one's file goes
    ]
    assert _eventually(lambda: _sizes(blobs) == sorted([len(again), len(last)])), _sizes(blobs)
    s3.complete_multipart_upload(
        Bucket=BUCKET,
        Key="joined.bin",
        UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in enumerate(etags, 1)]},
    )
    assert _eventually(lambda: _sizes(blobs) == [len(again) + len(last)]), _sizes(blobs)  # the object's file only
    assert s3.get_object(Bucket=BUCKET, Key="joined.bin")["Body"].read() == again + last
    assert s3.head_object(Bucket=BUCKET, Key="joined.bin", PartNumber=2)["ContentLength"] == len(last)

    aborted = s3.create_multipart_upload(Bucket=BUCKET, Key="aborted.bin")["UploadId"]
    s3.upload_part(Bucket=BUCKET, Key="aborted.bin", UploadId=aborted, PartNumber=1, Body=first)
    assert len(_sizes(blobs)) == 2
    s3.abort_multipart_upload(Bucket=BUCKET, Key="aborted.bin", UploadId=aborted)
    assert _eventually(lambda: _sizes(blobs) == [len(again) + len(last)]), _sizes(blobs)

    restartable.crash()  # what is left is consistent: the object back whole
    assert _client(restartable).get_object(Bucket=BUCKET, Key="joined.bin")["Body"].read() == again + last


def test_a_client_that_stops_sending_its_body_gets_request_timeout_and_leaves_nothing(tmp_path: Path) -> None:
    """S3 answers 400 RequestTimeout after about 20 s without a byte; the emulator's idle limit is
    lowered to 1 s here (``SCONES_S3_BODY_IDLE_TIMEOUT``)."""
    env = {"SCONES_S3_STREAM_THRESHOLD": str(MiB), "SCONES_S3_BODY_IDLE_TIMEOUT": "1"}
    world = Restartable(tmp_path / "aws-state", env=env)
    try:
        _client(world).create_bucket(Bucket=BUCKET)
        blobs = world.state_dir / "s3" / "blobs"
        connection = _raw_put(world, "stalled.bin", claimed=10 * MiB, sent=3 * MiB)  # and then nothing, still open
        answer = _answer(connection, timeout=15)
        assert answer.startswith(b"HTTP/1.1 400"), answer[:300]
        assert b"<Code>RequestTimeout</Code>" in answer
        assert not list(blobs.iterdir())
        with pytest.raises(ClientError) as exc:
            _client(world).head_object(Bucket=BUCKET, Key="stalled.bin")
        assert exc.value.response["Error"]["Code"] == "404"
    finally:
        world.stop()
