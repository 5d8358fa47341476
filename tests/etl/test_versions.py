"""Dataset versions under faults and odd input (issue 17), on in-process moto.

Where several processes must share one S3 (concurrent publishers, a run killed mid-upload), the
tests are in the emulator tier: tests/emulator_s3/test_dataset_versions.py.
"""

from __future__ import annotations

import tarfile
import threading
from pathlib import Path

import numpy as np
import pytest
from botocore.exceptions import EndpointConnectionError

from scones.datasets import new_version, resolve_dataset
from scones.errors import CorruptArchive, DestinationUnavailable, EmptyClassError
from scones.etl.pipeline import run_etl
from scones.layout import DatasetLayout
from tests.support import synthetic_cifar as synthetic
from tests.support.dataset_checks import assert_consistent

from .conftest import TEST_BUCKET

PREFIX = "datasets/versions-test"
URI = f"s3://{TEST_BUCKET}/{PREFIX}"
LAYOUT = DatasetLayout(TEST_BUCKET, PREFIX)


def all_keys(s3, prefix: str = PREFIX + "/") -> list[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=TEST_BUCKET, Prefix=prefix)
    return [o["Key"] for p in pages for o in p.get("Contents", [])]


# -- bad input: refused before anything is uploaded -------------------------------------------


def test_a_class_with_no_images_fails_clearly_and_publishes_nothing(s3, tmp_path: Path):
    archive = synthetic.write_cifar_archive(tmp_path / "bikes.tar.gz", 3, 1, labels=[8, 48])  # bicycle, motorcycle
    with pytest.raises(EmptyClassError, match=r"no images of 'bus' \(train\), 'bus' \(validation\)"):
        run_etl(s3, source=str(archive), classes=["bicycle", "bus"], dataset_uri=URI, cache_dir=tmp_path)
    assert all_keys(s3) == [], "nothing uploaded, nothing published"


def test_an_empty_class_leaves_the_published_version_in_place(s3, tmp_path: Path, cifar_all_classes: Path):
    good = run_etl(
        s3, source=str(cifar_all_classes), classes=["bicycle", "motorcycle"], dataset_uri=URI, cache_dir=tmp_path
    )
    before = {k: s3.get_object(Bucket=TEST_BUCKET, Key=k)["Body"].read() for k in all_keys(s3)}
    archive = synthetic.write_cifar_archive(tmp_path / "bikes.tar.gz", 3, 1, labels=[8])
    with pytest.raises(EmptyClassError):
        run_etl(s3, source=str(archive), classes=["bus", "train"], dataset_uri=URI, cache_dir=tmp_path)
    assert {k: s3.get_object(Bucket=TEST_BUCKET, Key=k)["Body"].read() for k in all_keys(s3)} == before
    assert resolve_dataset(s3, LAYOUT).version == good.version


def archive_with_filename(path: Path, odd: str) -> Path:
    """The official layout, with one train file name replaced by ``odd``."""
    rng = np.random.default_rng(0)
    train = synthetic._split(rng, 2, [8, 48], "train")
    test = synthetic._split(rng, 1, [8, 48], "test")
    train[b"filenames"][0] = odd.encode()
    with tarfile.open(path, "w:gz") as tar:
        synthetic._member(tar, "meta", {b"fine_label_names": [n.encode() for n in synthetic.CIFAR100_FINE_LABELS]})
        synthetic._member(tar, "train", train)
        synthetic._member(tar, "test", test)
    return path


@pytest.mark.parametrize(
    "odd", ["bicycle_s_1.png\n0\t1\tmotorcycle/x.png", "bicycle_s_1.png\n", "tab\there.png", "../escape.png", "a/b.png"]
)
def test_odd_member_names_are_refused_before_any_upload(s3, tmp_path: Path, odd: str):
    archive = archive_with_filename(tmp_path / "odd.tar.gz", odd)
    with pytest.raises(CorruptArchive, match="file name"):
        run_etl(s3, source=str(archive), classes=["bicycle", "motorcycle"], dataset_uri=URI, cache_dir=tmp_path)
    assert all_keys(s3) == []


# -- faults: an S3 outage is retried, and told apart from bad input ---------------------------


class Outage:
    """Fails PutObject of images with a connection error for ``failures`` calls after ``after`` successes."""

    def __init__(self, s3, after: int, failures: int) -> None:
        self.after, self.failures, self.calls, self.failed = after, failures, 0, 0
        self.lock = threading.Lock()
        s3.meta.events.register("before-send.s3.PutObject", self)

    def __call__(self, request, **_):
        if not request.url.endswith(".png"):
            return None
        with self.lock:
            self.calls += 1
            if self.calls > self.after and self.failed < self.failures:
                self.failed += 1
                raise EndpointConnectionError(endpoint_url=request.url)
        return None


def test_an_s3_outage_mid_upload_is_retried_and_the_run_succeeds(
    s3, tmp_path: Path, cifar_all_classes: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr("scones.s3retry.time.sleep", lambda s: None)
    outage = Outage(s3, after=3, failures=4)
    result = run_etl(
        s3,
        source=str(cifar_all_classes),
        classes=["bicycle", "motorcycle"],
        dataset_uri=URI,
        cache_dir=tmp_path,
        concurrency=1,
    )
    assert outage.failed == 4, "the outage happened mid-upload"
    assert result.published and resolve_dataset(s3, LAYOUT).version == result.version
    assert_consistent(s3, LAYOUT)


def test_an_outage_that_outlasts_the_retries_is_not_called_bad_input(
    s3, tmp_path: Path, cifar_all_classes: Path, monkeypatch: pytest.MonkeyPatch
):
    from airflow.sdk.definitions.retry_policy import RetryAction

    from scones.airflow_glue import RETRY_POLICY

    monkeypatch.setattr("scones.s3retry.time.sleep", lambda s: None)
    Outage(s3, after=3, failures=10_000)
    with pytest.raises(DestinationUnavailable, match="not the input's fault") as raised:
        run_etl(
            s3,
            source=str(cifar_all_classes),
            classes=["bicycle", "motorcycle"],
            dataset_uri=URI,
            cache_dir=tmp_path,
            concurrency=1,
        )
    assert RETRY_POLICY.evaluate(raised.value, try_number=1, max_tries=3).action != RetryAction.FAIL
    assert "current.json" not in " ".join(all_keys(s3)), "nothing published"


def test_a_member_larger_than_cifar_ever_has_is_refused_before_it_is_read(
    s3, tmp_path: Path, cifar_all_classes: Path, monkeypatch: pytest.MonkeyPatch
):
    """A small archive that inflates to gigabytes (it took the ETL to 2.2 GB) is refused from its tar header."""
    from scones.etl import cifar

    monkeypatch.setattr(cifar, "MAX_MEMBER_BYTES", 10_000)  # the test archive's train member is ~330 KB
    with pytest.raises(CorruptArchive, match="refused before reading it"):
        run_etl(
            s3, source=str(cifar_all_classes), classes=["bicycle", "motorcycle"], dataset_uri=URI, cache_dir=tmp_path
        )
    assert all_keys(s3) == []


def test_a_version_name_with_a_trailing_newline_is_not_a_version():
    version = new_version()
    with pytest.raises(ValueError, match="not a dataset version"):
        LAYOUT.root(version + "\n")
    assert LAYOUT.version_of_key(f"{LAYOUT.versions_prefix}{version}\n/labels.json") is None
    assert LAYOUT.version_of_key(f"{LAYOUT.versions_prefix}{version}/labels.json") == version
