from __future__ import annotations

import json
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from scones.datasets import resolve_dataset
from scones.errors import DestinationError, UnknownClassError
from scones.etl.load import delete_prefix
from scones.etl.pipeline import run_etl, stage
from scones.layout import DatasetLayout

from .conftest import TEST_BUCKET

URI = f"s3://{TEST_BUCKET}/datasets/vehicles"


def keys(s3, prefix: str = "datasets/vehicles/") -> list[str]:
    return [
        o["Key"]
        for p in s3.get_paginator("list_objects_v2").paginate(Bucket=TEST_BUCKET, Prefix=prefix)
        for o in p.get("Contents", [])
    ]


def etl(s3, archive: Path, tmp_path: Path, **kw):
    return run_etl(
        s3, source=str(archive), classes=["bicycle", "motorcycle"], dataset_uri=URI, cache_dir=tmp_path, **kw
    )


def published(s3):
    return resolve_dataset(s3, DatasetLayout(TEST_BUCKET, "datasets/vehicles"))


def test_layout_in_s3(s3, cifar_all_classes: Path, tmp_path: Path):
    result = etl(s3, cifar_all_classes, tmp_path)
    root = f"datasets/vehicles/versions/{result.version}"
    found = keys(s3)
    assert len([k for k in found if k.endswith(".png")]) == 8
    assert all(k.startswith(root + "/") for k in found if k.endswith(".png")), "images live in their version"
    assert {
        f"{root}/train_lst/train.lst",
        f"{root}/validation_lst/validation.lst",
        f"{root}/labels.json",
        "datasets/vehicles/current.json",
    } <= set(found)
    pointer = json.loads(s3.get_object(Bucket=TEST_BUCKET, Key="datasets/vehicles/current.json")["Body"].read())
    assert pointer["version"] == result.version and pointer["previous"] is None
    lst = s3.get_object(Bucket=TEST_BUCKET, Key=f"{root}/train_lst/train.lst")["Body"].read().decode()
    for line in lst.splitlines():
        _, _, path = line.split("\t")
        head = s3.head_object(Bucket=TEST_BUCKET, Key=f"{root}/train/{path}")
        assert head["ContentType"] == "image/png"
    assert result.uploaded == 8 and result.published
    assert published(s3).version == result.version


def test_rerun_writes_a_new_version_and_leaves_the_old_one_as_it_was(s3, cifar_all_classes: Path, tmp_path: Path):
    first = etl(s3, cifar_all_classes, tmp_path)
    before = {
        k: s3.get_object(Bucket=TEST_BUCKET, Key=k)["Body"].read()
        for k in keys(s3, f"datasets/vehicles/versions/{first.version}/")
    }
    second = etl(s3, cifar_all_classes, tmp_path)
    assert second.version > first.version and published(s3).version == second.version
    after = {
        k: s3.get_object(Bucket=TEST_BUCKET, Key=k)["Body"].read()
        for k in keys(s3, f"datasets/vehicles/versions/{first.version}/")
    }
    assert after == before, "a published version is never written again"
    pointer = json.loads(s3.get_object(Bucket=TEST_BUCKET, Key="datasets/vehicles/current.json")["Body"].read())
    assert pointer["previous"] == first.version


class FailingPuts:
    """An S3 client whose put_object fails for one image: a failure mid-upload."""

    def __init__(self, client, code: str = "InternalError") -> None:
        self._client, self._code, self.calls = client, code, 0

    def put_object(self, **kw):
        self.calls += 1
        if kw["Key"].endswith(".png") and self.calls == 3:
            raise ClientError({"Error": {"Code": self._code, "Message": "boom"}}, "PutObject")
        return self._client.put_object(**kw)

    def __getattr__(self, name):
        return getattr(self._client, name)


def test_failure_mid_upload_keeps_the_published_dataset(s3, cifar_all_classes: Path, tmp_path: Path):
    first = etl(s3, cifar_all_classes, tmp_path)
    # a new dataset version (other classes) fails half way through its upload
    with pytest.raises(DestinationError):
        run_etl(
            FailingPuts(s3, "AccessDenied"),
            source=str(cifar_all_classes),
            classes=["bus", "train"],
            dataset_uri=URI,
            cache_dir=tmp_path,
            concurrency=1,
        )
    assert published(s3).version == first.version
    assert published(s3).classes == ["bicycle", "motorcycle"], "the published dataset is still the old, complete one"


def test_first_run_failing_leaves_no_manifest(s3, cifar_all_classes: Path, tmp_path: Path):
    with pytest.raises(DestinationError, match="could not upload images"):
        run_etl(
            FailingPuts(s3, "InvalidRequest"),
            source=str(cifar_all_classes),
            classes=["bicycle"],
            dataset_uri=URI,
            cache_dir=tmp_path,
            concurrency=1,
        )
    assert not [k for k in keys(s3) if k.endswith((".lst", ".json"))]


def test_access_denied_says_which_permissions(s3, cifar_all_classes: Path, tmp_path: Path):
    with pytest.raises(DestinationError, match="s3:PutObject"):
        run_etl(
            FailingPuts(s3, "AccessDenied"),
            source=str(cifar_all_classes),
            classes=["bicycle"],
            dataset_uri=URI,
            cache_dir=tmp_path,
            concurrency=1,
        )


def test_missing_bucket_fails_before_downloading(s3, tmp_path: Path):
    with pytest.raises(DestinationError, match="does not exist"):
        stage(
            s3,
            source="http://127.0.0.1:9/never-fetched.tar.gz",
            classes=["bicycle"],
            dataset_uri="s3://no-such-bucket-here/x",
            cache_dir=tmp_path,
        )


def test_unknown_class_fails_before_anything(s3, tmp_path: Path):
    with pytest.raises(UnknownClassError):
        stage(
            s3,
            source="http://127.0.0.1:9/never-fetched.tar.gz",
            classes=["unicycle"],
            dataset_uri=URI,
            cache_dir=tmp_path,
        )
    assert keys(s3) == []


class RefuseDeletes:
    """DeleteObjects answers 200 but leaves some keys, listing them in Errors (as S3 does for AccessDenied)."""

    def __init__(self, s3, codes: list[str]) -> None:
        self.codes, self.refused = codes, []  # one code per DeleteObjects call, then none
        s3.meta.events.register("provide-client-params.s3.DeleteObjects", self.before)
        s3.meta.events.register("after-call.s3.DeleteObjects", self.after)

    def before(self, params, **_):
        self.refused = [params["Delete"]["Objects"].pop(0)["Key"]] if self.codes else []
        self.code = self.codes.pop(0) if self.codes else None

    def after(self, parsed, **_):
        parsed["Errors"] = [{"Key": k, "Code": self.code, "Message": self.code} for k in self.refused]


def put_three(s3) -> list[str]:
    keys = [f"gone/{name}.png" for name in "abc"]
    for key in keys:
        s3.put_object(Bucket=TEST_BUCKET, Key=key, Body=b"x")
    return keys


def test_a_delete_refused_per_key_is_an_error_naming_the_key(s3):
    keys = put_three(s3)
    RefuseDeletes(s3, ["AccessDenied"])
    with pytest.raises(DestinationError, match=f"could not delete 1 of 3 objects.*{keys[0]} \\(AccessDenied"):
        delete_prefix(s3, TEST_BUCKET, "gone")
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=TEST_BUCKET, Prefix="gone/")["Contents"]] == [keys[0]]


def test_a_key_failing_transiently_in_a_delete_is_sent_again(s3, monkeypatch):
    monkeypatch.setattr("scones.s3retry.time.sleep", lambda s: None)
    put_three(s3)
    RefuseDeletes(s3, ["InternalError"])
    assert delete_prefix(s3, TEST_BUCKET, "gone") == 3
    assert "Contents" not in s3.list_objects_v2(Bucket=TEST_BUCKET, Prefix="gone/")
