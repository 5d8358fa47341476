"""Large S3 bodies are streamed between the socket and a file (scones.emulator.s3.streaming), and the
answers are the ones moto gives for the same request.

Against an ephemeral emulator whose streaming threshold is 1 MiB (``SCONES_S3_STREAM_THRESHOLD``),
so that a few MiB exercise the large-object path; the session's emulator (default threshold,
8 MiB) answers the same small objects through moto's own path, for comparison.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime
import hashlib
import os
import time
import uuid
from collections.abc import Iterator

import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from scones.emulator import EmulatorProcess

MiB = 1024 * 1024
THRESHOLD = MiB
BUCKET = "scones-large-objects"


@pytest.fixture(scope="module")
def streaming() -> Iterator[EmulatorProcess]:
    with EmulatorProcess(env={"SCONES_S3_STREAM_THRESHOLD": str(THRESHOLD)}) as emulator:
        yield emulator


def _client(emulator: EmulatorProcess):
    s3 = emulator.session().client("s3", config=Config(retries={"max_attempts": 1}))
    try:
        s3.create_bucket(Bucket=BUCKET)
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass
    return s3


@pytest.fixture(scope="module")
def s3(streaming: EmulatorProcess):
    return _client(streaming)


def stats(emulator: EmulatorProcess) -> dict[str, int]:
    return requests.get(f"{emulator.endpoint_url}/moto-api/scones/s3-streaming", timeout=10).json()


def body(size: int) -> bytes:
    return os.urandom(size)


def code(exc: pytest.ExceptionInfo[ClientError]) -> tuple[int, str]:
    return exc.value.response["ResponseMetadata"]["HTTPStatusCode"], exc.value.response["Error"]["Code"]


def test_a_large_put_and_a_multipart_upload_land_byte_identical_without_moto_reading_the_body(streaming, s3) -> None:
    before = stats(streaming)
    single, key = body(3 * MiB + 17), f"single/{uuid.uuid4().hex}"
    answer = s3.put_object(Bucket=BUCKET, Key=key, Body=single, ChecksumAlgorithm="SHA256")
    assert answer["ETag"] == f'"{hashlib.md5(single).hexdigest()}"'
    assert answer["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(single).digest()).decode()
    got = s3.get_object(Bucket=BUCKET, Key=key, ChecksumMode="ENABLED")
    assert got["Body"].read() == single
    assert got["ContentLength"] == len(single)
    assert got["ChecksumSHA256"] == answer["ChecksumSHA256"]

    parts, key = [body(5 * MiB), body(5 * MiB), body(MiB // 2)], f"multipart/{uuid.uuid4().hex}"
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key=key, ContentType="application/x-tar")["UploadId"]
    etags = [
        s3.upload_part(Bucket=BUCKET, Key=key, UploadId=upload, PartNumber=n, Body=part)["ETag"]
        for n, part in enumerate(parts, 1)
    ]
    done = s3.complete_multipart_upload(
        Bucket=BUCKET,
        Key=key,
        UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in enumerate(etags, 1)]},
    )
    md5s = b"".join(hashlib.md5(p).digest() for p in parts)
    assert done["ETag"] == f'"{hashlib.md5(md5s).hexdigest()}-3"'
    got = s3.get_object(Bucket=BUCKET, Key=key)
    assert got["Body"].read() == b"".join(parts)
    assert (got["ContentType"], got["ETag"]) == ("application/x-tar", done["ETag"])

    after = stats(streaming)
    # the put, two of the three parts (the last is under the threshold) and the completion
    assert after["streamed_in"] - before["streamed_in"] == 4
    assert after["streamed_out"] - before["streamed_out"] == 2
    assert after["largest_body_read_by_moto"] <= THRESHOLD, "a large body went through moto's request.data"


def test_a_large_multipart_upload_keeps_moto_s_checks(s3) -> None:
    key = f"checks/{uuid.uuid4().hex}"
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]
    small = s3.upload_part(Bucket=BUCKET, Key=key, UploadId=upload, PartNumber=1, Body=body(2 * MiB))["ETag"]
    last = s3.upload_part(Bucket=BUCKET, Key=key, UploadId=upload, PartNumber=2, Body=body(2 * MiB))["ETag"]
    parts = [{"PartNumber": 1, "ETag": small}, {"PartNumber": 2, "ETag": last}]
    with pytest.raises(ClientError) as exc:
        s3.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload, MultipartUpload={"Parts": parts})
    assert code(exc) == (400, "EntityTooSmall")
    wrong = [{"PartNumber": 1, "ETag": small}, {"PartNumber": 2, "ETag": small}]
    with pytest.raises(ClientError) as exc:
        s3.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload, MultipartUpload={"Parts": wrong})
    assert code(exc) == (400, "InvalidPart")
    with pytest.raises(s3.exceptions.NoSuchKey):
        s3.get_object(Bucket=BUCKET, Key=key)


@pytest.fixture(scope="module")
def stored(s3) -> tuple[str, bytes, str]:
    data, key = body(2 * MiB + 123), f"read/{uuid.uuid4().hex}"
    etag = s3.put_object(Bucket=BUCKET, Key=key, Body=data)["ETag"]
    return key, data, etag


def test_copies_of_a_large_object_are_byte_identical(streaming, s3, stored) -> None:
    key, data, etag = stored
    before = stats(streaming)
    copied = s3.copy_object(Bucket=BUCKET, Key=f"{key}-copy", CopySource={"Bucket": BUCKET, "Key": key})
    assert copied["CopyObjectResult"]["ETag"] == etag
    target = f"{key}-parts"
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key=target)["UploadId"]
    parts = []
    for number, (first, last) in enumerate([(0, MiB - 1), (MiB, len(data) - 1)], 1):
        part = s3.upload_part_copy(
            Bucket=BUCKET,
            Key=target,
            UploadId=upload,
            PartNumber=number,
            CopySource={"Bucket": BUCKET, "Key": key},
            CopySourceRange=f"bytes={first}-{last}",
        )
        parts.append({"PartNumber": number, "ETag": part["CopyPartResult"]["ETag"]})
    assert parts[1]["ETag"] == f'"{hashlib.md5(data[MiB:]).hexdigest()}"'
    assert stats(streaming)["largest_body_read_by_moto"] <= THRESHOLD
    assert before["streamed_out"] == stats(streaming)["streamed_out"], "a copy counted as a GetObject answer"
    assert s3.get_object(Bucket=BUCKET, Key=f"{key}-copy")["Body"].read() == data


@pytest.mark.parametrize(
    ("header", "start", "stop"),
    [
        ("bytes=0-99", 0, 100),
        ("bytes=1048576-", MiB, None),
        ("bytes=-500", -500, None),  # a suffix range: the last 500 bytes
        ("bytes=100-99999999", 100, None),  # an end past the object: up to its end
        ("bytes=-99999999", 0, None),  # a suffix longer than the object: all of it
    ],
)
def test_ranges_are_answered_from_the_file(s3, stored, header: str, start: int, stop: int | None) -> None:
    key, data, _ = stored
    got = s3.get_object(Bucket=BUCKET, Key=key, Range=header)
    expected = data[start:stop]
    assert got["Body"].read() == expected
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
    first = len(data) + start if start < 0 else start
    first = max(first, 0)
    assert got["ContentRange"] == f"bytes {first}-{first + len(expected) - 1}/{len(data)}"
    assert got["ContentLength"] == len(expected)


def test_a_range_past_the_end_is_invalid_range(s3, stored) -> None:
    key, data, _ = stored
    for header in (f"bytes={len(data)}-", f"bytes={len(data) + 10}-{len(data) + 20}", "bytes=-0"):
        with pytest.raises(ClientError) as exc:
            s3.get_object(Bucket=BUCKET, Key=key, Range=header)
        assert code(exc) == (416, "InvalidRange"), header


def test_conditional_reads_and_head(s3, stored) -> None:
    key, data, etag = stored
    future = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=1)
    past = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
    for kwargs, status in (
        ({"IfNoneMatch": etag}, 304),
        ({"IfModifiedSince": future}, 304),
        ({"IfMatch": '"0123456789abcdef0123456789abcdef"'}, 412),
        ({"IfUnmodifiedSince": past}, 412),
    ):
        with pytest.raises(ClientError) as exc:
            s3.get_object(Bucket=BUCKET, Key=key, **kwargs)
        assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == status, kwargs
    assert s3.get_object(Bucket=BUCKET, Key=key, IfMatch=etag, IfModifiedSince=past)["Body"].read() == data
    head = s3.head_object(Bucket=BUCKET, Key=key)
    assert (head["ContentLength"], head["ETag"]) == (len(data), etag)


def test_versions_of_a_large_object_are_read_by_version_id(s3) -> None:
    bucket = f"scones-large-versions-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    first, second = body(2 * MiB), body(2 * MiB)
    version = s3.put_object(Bucket=bucket, Key="model.tar.gz", Body=first)["VersionId"]
    s3.put_object(Bucket=bucket, Key="model.tar.gz", Body=second)
    assert s3.get_object(Bucket=bucket, Key="model.tar.gz", VersionId=version)["Body"].read() == first
    assert s3.get_object(Bucket=bucket, Key="model.tar.gz")["Body"].read() == second


def _content_md5(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


@pytest.mark.parametrize("size", [2 * MiB, 1000], ids=["streamed", "through-moto"])
def test_a_body_that_does_not_match_its_digest_is_bad_digest_and_nothing_is_stored(s3, size: int) -> None:
    data, key = body(size), f"digest/{uuid.uuid4().hex}"
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=BUCKET, Key=key, Body=data, ContentMD5=_content_md5(data + b"x"))
    assert code(exc) == (400, "BadDigest")
    crc = base64.b64encode((binascii.crc32(data) ^ 1).to_bytes(4, "big")).decode()
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=BUCKET, Key=key, Body=data, ChecksumCRC32=crc)
    assert code(exc) == (400, "BadDigest")
    with pytest.raises(s3.exceptions.NoSuchKey):
        s3.get_object(Bucket=BUCKET, Key=key)

    upload = s3.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]
    with pytest.raises(ClientError) as exc:
        s3.upload_part(
            Bucket=BUCKET, Key=key, UploadId=upload, PartNumber=1, Body=data, ContentMD5=_content_md5(b"other")
        )
    assert code(exc) == (400, "BadDigest")
    assert s3.list_parts(Bucket=BUCKET, Key=key, UploadId=upload).get("Parts", []) == []
    s3.abort_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload)

    # the right digests are accepted
    s3.put_object(Bucket=BUCKET, Key=key, Body=data, ContentMD5=_content_md5(data))
    assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == data


_VARYING = {"date", "last-modified", "x-amz-request-id", "x-amzn-requestid", "x-amz-id-2", "server"}


def _headers(answer: dict) -> dict[str, str]:
    return {k: v for k, v in answer["ResponseMetadata"]["HTTPHeaders"].items() if k not in _VARYING}


def test_the_streamed_answers_carry_the_headers_moto_gives_for_the_same_object(s3, emulator) -> None:
    """2 MiB: streamed by the 1 MiB emulator, through moto's own path in the session's (8 MiB) one."""
    moto = _client(emulator)
    data, key = body(2 * MiB), f"same/{uuid.uuid4().hex}"
    extra = {"ContentType": "image/png", "Metadata": {"day": "2026-11-29"}, "CacheControl": "no-cache"}
    answers = [client.put_object(Bucket=BUCKET, Key=key, Body=data, **extra) for client in (s3, moto)]
    assert _headers(answers[0]) == _headers(answers[1])
    for request in (
        {},
        {"Range": "bytes=10-20"},
        {"Range": "bytes=-7"},
        {"ResponseContentType": "text/plain"},
        {"PartNumber": 1},
    ):
        streamed, through_moto = (client.get_object(Bucket=BUCKET, Key=key, **request) for client in (s3, moto))
        assert _headers(streamed) == _headers(through_moto), request
        assert streamed["Body"].read() == through_moto["Body"].read()
    streamed, through_moto = (client.head_object(Bucket=BUCKET, Key=key) for client in (s3, moto))
    assert _headers(streamed) == _headers(through_moto)


def _peak_memory(emulator: EmulatorProcess) -> int:
    with open(f"/proc/{emulator.pid}/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM:"))


def test_the_emulator_s_memory_does_not_grow_with_a_large_body(streaming, s3) -> None:
    """48 MiB put and read back: moto's path took twice that (request.data, then the answer's bytes)
    above the peak so far; streamed, chunks of 1 MiB. The margin (half the body) is wide on purpose."""
    size, key = 48 * MiB, f"memory/{uuid.uuid4().hex}"
    data = body(size)
    s3.put_object(Bucket=BUCKET, Key=f"{key}-warm", Body=data[: 2 * MiB])  # every code path loaded once
    s3.get_object(Bucket=BUCKET, Key=f"{key}-warm")["Body"].read()
    peak = _peak_memory(streaming)
    s3.put_object(Bucket=BUCKET, Key=key, Body=data)
    digest = hashlib.md5()
    for chunk in s3.get_object(Bucket=BUCKET, Key=key)["Body"].iter_chunks(MiB):
        digest.update(chunk)
    assert digest.digest() == hashlib.md5(data).digest()
    assert _peak_memory(streaming) - peak < size // 2


def _deleted_files_held(emulator: EmulatorProcess) -> int:
    """File descriptors of the emulator on deleted files: an ephemeral large body is an anonymous temporary file."""
    folder = f"/proc/{emulator.pid}/fd"
    links = []
    for fd in os.listdir(folder):
        with contextlib.suppress(FileNotFoundError):
            links.append(os.readlink(f"{folder}/{fd}"))
    return sum(link.endswith("(deleted)") for link in links)


def test_overwritten_and_deleted_large_objects_release_their_temporary_files(streaming, s3) -> None:
    """moto's instance list kept every FakeKey, and so an open temporary file per dropped large body."""
    key = f"dropped/{uuid.uuid4().hex}"
    before = _deleted_files_held(streaming)
    for _ in range(4):
        s3.put_object(Bucket=BUCKET, Key=key, Body=body(3 * MiB))
    s3.delete_object(Bucket=BUCKET, Key=key)
    deadline = time.monotonic() + 5
    while _deleted_files_held(streaming) > before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _deleted_files_held(streaming) == before


@pytest.mark.parametrize(("version", "signature"), [("s3v4", "X-Amz-Signature="), ("s3", "Signature=")])
def test_a_presigned_put_over_the_threshold_is_streamed(streaming, s3, version: str, signature: str) -> None:
    signing = streaming.session().client("s3", config=Config(signature_version=version, retries={"max_attempts": 1}))
    data, key = body(2 * MiB), f"presigned/{uuid.uuid4().hex}"
    url = signing.generate_presigned_url("put_object", Params={"Bucket": BUCKET, "Key": key})
    assert signature in url
    before = stats(streaming)
    answer = requests.put(url, data=data, timeout=60)
    assert answer.status_code == 200, answer.text
    assert answer.headers["ETag"] == f'"{hashlib.md5(data).hexdigest()}"'
    after = stats(streaming)
    assert after["streamed_in"] - before["streamed_in"] == 1
    assert after["largest_body_read_by_moto"] <= THRESHOLD
    assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == data


@pytest.mark.parametrize("size", [2 * MiB, 1000], ids=["streamed", "through-moto"])
def test_a_checksum_the_emulator_cannot_compute_is_refused_not_stored_unchecked(s3, size: int) -> None:
    """Neither crc32c nor awscrt is installed: moto would compute CRC32 in their place and store any value."""
    data, key = body(size), f"crc/{uuid.uuid4().hex}"
    for algorithm, length in (("CRC32C", 4), ("CRC64NVME", 8)):
        wrong = base64.b64encode(bytes(length)).decode()
        with pytest.raises(ClientError) as exc:
            s3.put_object(Bucket=BUCKET, Key=key, Body=data, **{f"Checksum{algorithm}": wrong})
        assert code(exc) == (400, "NotImplemented"), algorithm
        message = exc.value.response["Error"]["Message"]
        assert algorithm in message and "CRC32, SHA1, SHA256" in message
    with pytest.raises(s3.exceptions.NoSuchKey):
        s3.get_object(Bucket=BUCKET, Key=key)


@pytest.mark.parametrize("size", [2 * MiB, 1000], ids=["streamed", "through-moto"])
def test_a_malformed_checksum_value_is_invalid_request(s3, size: int) -> None:
    data, key = body(size), f"malformed/{uuid.uuid4().hex}"
    for argument, value in (
        ("ChecksumSHA256", "notbase64!!"),
        ("ChecksumSHA256", base64.b64encode(bytes(4)).decode()),  # a CRC's length
        ("ChecksumCRC32", base64.b64encode(bytes(8)).decode()),
    ):
        with pytest.raises(ClientError) as exc:
            s3.put_object(Bucket=BUCKET, Key=key, Body=data, **{argument: value})
        assert code(exc) == (400, "InvalidRequest"), (argument, value)
        header = f"x-amz-checksum-{argument.removeprefix('Checksum').lower()}"
        assert exc.value.response["Error"]["Message"] == f"Value for {header} header is invalid."
    with pytest.raises(s3.exceptions.NoSuchKey):
        s3.get_object(Bucket=BUCKET, Key=key)
