"""S3 beyond plain objects comes back after a kill -9: versions and delete markers, tags, and a
multipart upload in progress."""

from __future__ import annotations

import pytest

from tests.emulator_persistence.conftest import Restartable

BUCKET = "scones-persistence-s3"


def _versions(s3) -> list[tuple[str, str, bool]]:
    listing = s3.list_object_versions(Bucket=BUCKET)
    return sorted(
        [(v["Key"], v["VersionId"], False) for v in listing.get("Versions", [])]
        + [(m["Key"], m["VersionId"], True) for m in listing.get("DeleteMarkers", [])]
    )


def test_versions_delete_markers_tags_and_uploads_in_progress_survive_a_crash(restartable: Restartable) -> None:
    s3 = restartable.session().client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    first = s3.put_object(Bucket=BUCKET, Key="model.json", Body=b'{"v": 1}')["VersionId"]
    s3.put_object(Bucket=BUCKET, Key="model.json", Body=b'{"v": 2}')
    s3.delete_object(Bucket=BUCKET, Key="model.json")  # a delete marker over both versions
    s3.put_object(Bucket=BUCKET, Key="report.json", Body=b"old")
    s3.put_object(Bucket=BUCKET, Key="report.json", Body=b"new")
    s3.put_object_tagging(Bucket=BUCKET, Key="report.json", Tagging={"TagSet": [{"Key": "day", "Value": "2026-11-29"}]})
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key="big.bin")["UploadId"]
    part = s3.upload_part(Bucket=BUCKET, Key="big.bin", UploadId=upload, PartNumber=1, Body=b"p" * (5 * 1024 * 1024))
    versions = _versions(s3)
    buckets_file = restartable.state_dir / "backends" / "moto.s3.models.s3_backends.pickle"
    assert buckets_file.stat().st_size < 1024 * 1024, "the part's body is in the buckets file, rewritten at each part"

    restartable.crash()
    s3 = restartable.session().client("s3")
    assert _versions(s3) == versions
    assert s3.get_object(Bucket=BUCKET, Key="model.json", VersionId=first)["Body"].read() == b'{"v": 1}'
    with pytest.raises(s3.exceptions.NoSuchKey):
        s3.get_object(Bucket=BUCKET, Key="model.json")  # still hidden by its delete marker
    assert s3.get_object(Bucket=BUCKET, Key="report.json")["Body"].read() == b"new"
    assert s3.get_object_tagging(Bucket=BUCKET, Key="report.json")["TagSet"] == [{"Key": "day", "Value": "2026-11-29"}]
    s3.complete_multipart_upload(
        Bucket=BUCKET,
        Key="big.bin",
        UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
    )
    assert s3.get_object(Bucket=BUCKET, Key="big.bin")["Body"].read() == b"p" * (5 * 1024 * 1024)


def test_a_write_the_disk_refuses_is_an_s3_error_and_stores_nothing(restartable: Restartable) -> None:
    import resource

    from botocore.config import Config

    s3 = restartable.session().client("s3", config=Config(retries={"max_attempts": 1}))
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="small.txt", Body=b"kept")
    assert restartable.emulator.pid is not None
    limit = 1024 * 1024  # a disk nearly full, as a file-size limit on the emulator
    resource.prlimit(restartable.emulator.pid, resource.RLIMIT_FSIZE, (limit, limit))
    with pytest.raises(s3.exceptions.ClientError) as refused:
        s3.put_object(Bucket=BUCKET, Key="big.bin", Body=b"b" * (2 * limit))
    error = refused.value.response["Error"]
    assert (error["Code"], refused.value.response["ResponseMetadata"]["HTTPStatusCode"]) == ("InternalError", 500)
    assert "nothing was stored" in error["Message"]
    with pytest.raises(s3.exceptions.NoSuchKey):
        s3.get_object(Bucket=BUCKET, Key="big.bin")
    blobs = restartable.state_dir / "s3" / "blobs"
    assert all(body.stat().st_size < limit for body in blobs.iterdir()), "the refused body still takes room"

    restartable.crash()  # the folder is still whole: it loads
    s3 = restartable.session().client("s3")
    assert s3.get_object(Bucket=BUCKET, Key="small.txt")["Body"].read() == b"kept"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]] == ["small.txt"]


def test_listing_versions_copies_no_body(restartable: Restartable) -> None:
    s3 = restartable.session().client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    for name in ("a", "b", "c"):
        s3.put_object(Bucket=BUCKET, Key=name, Body=name.encode() * (1024 * 1024))
    s3.put_object(Bucket=BUCKET, Key="a", Body=b"second")  # two versions of one key
    blobs = restartable.state_dir / "s3" / "blobs"
    stored = sorted(p.name for p in blobs.iterdir())
    assert len(stored) == 4
    for _ in range(5):  # moto deep-copies every version for a listing
        assert len(s3.list_object_versions(Bucket=BUCKET)["Versions"]) == 4
    assert sorted(p.name for p in blobs.iterdir()) == stored, "a listing wrote copies of the bodies"
    assert s3.get_object(Bucket=BUCKET, Key="b")["Body"].read() == b"b" * (1024 * 1024)


def test_objects_of_another_partition_survive_a_crash(restartable: Restartable) -> None:
    s3 = restartable.session(region="cn-north-1").client("s3")
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "cn-north-1"})
    s3.put_object(Bucket=BUCKET, Key="in-china.txt", Body=b"kept")
    restartable.crash()
    s3 = restartable.session(region="cn-north-1").client("s3")
    assert s3.get_object(Bucket=BUCKET, Key="in-china.txt")["Body"].read() == b"kept"


def test_a_reset_forgets_every_object_even_when_a_bucket_of_that_name_comes_back(restartable: Restartable) -> None:
    import urllib.request

    s3 = restartable.session().client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="datasets/current.json", Body=b'{"version": "old"}')
    request = urllib.request.Request(f"{restartable.emulator.endpoint_url}/moto-api/reset", method="POST")
    urllib.request.urlopen(request, timeout=30).close()
    s3.create_bucket(Bucket=BUCKET)  # the same name, a new bucket: nothing in it

    restartable.crash()  # right after the answers: the reset must already be kept
    s3 = restartable.session().client("s3")
    assert s3.list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0, "an object deleted by the reset came back"
