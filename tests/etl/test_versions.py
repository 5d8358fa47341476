"""Dataset versions under faults, concurrency and odd input (issue 17).

In-process moto for single-process cases; the emulator process where several processes must
share one S3 (concurrent publishers, a run killed mid-upload).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import tarfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from botocore.exceptions import EndpointConnectionError

from scones.datasets import new_version, resolve_dataset
from scones.errors import CorruptArchive, DestinationUnavailable, EmptyClassError, PublishConflict
from scones.etl.pipeline import run_etl
from scones.layout import DatasetLayout
from tests.support import synthetic_cifar as synthetic

from .conftest import TEST_BUCKET

PREFIX = "datasets/versions-test"
URI = f"s3://{TEST_BUCKET}/{PREFIX}"
LAYOUT = DatasetLayout(TEST_BUCKET, PREFIX)


def all_keys(s3, prefix: str = PREFIX + "/") -> list[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=TEST_BUCKET, Prefix=prefix)
    return [o["Key"] for p in pages for o in p.get("Contents", [])]


def assert_consistent(s3, layout: DatasetLayout = LAYOUT) -> dict:
    """The pointer names one complete version whose manifests, images and labels.json agree."""
    pinned = resolve_dataset(s3, layout)
    labels = pinned.labels
    for channel in ("train", "validation"):
        lst = (
            s3.get_object(Bucket=layout.bucket, Key=layout.manifest_key(pinned.version, channel))["Body"]
            .read()
            .decode()
        )
        lines = [line.split("\t") for line in lst.splitlines()]
        assert len(lines) == sum(labels["counts"][channel].values())
        for _, label, path in lines:
            assert path.split("/")[0] == labels["classes"][int(label)], "a manifest line from another run's classes"
            s3.head_object(Bucket=layout.bucket, Key=pinned.key(f"{channel}/{path}"))
    return labels


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
    assert_consistent(s3)


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


# -- concurrency: threads and processes publishing at once ------------------------------------

CLASS_SETS = [["bicycle", "motorcycle"], ["bus", "train"], ["tank", "tractor"], ["rocket", "streetcar"]]


def _etl_in_process(endpoint: str, archive: str, classes: list[str], uri: str, cache: str) -> str:
    """One ETL run in a child process; 'published' or 'conflict'."""
    import boto3

    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    try:
        run_etl(s3, source=archive, classes=classes, dataset_uri=uri, cache_dir=Path(cache), concurrency=4)
    except PublishConflict:
        return "conflict"
    return "published"


def test_many_runs_at_once_leave_the_pointer_on_one_complete_version(emulator, cifar_all_classes: Path, tmp_path: Path):
    session = emulator.session()
    s3 = session.client("s3")
    bucket = "scones-versions-race"
    s3.create_bucket(Bucket=bucket)
    layout = DatasetLayout(bucket, "datasets/race")
    stop, seen, problems = threading.Event(), set(), []

    def reader() -> None:  # a reader resolving all along never sees a mixed or partial version
        client = session.client("s3")
        while not stop.is_set():
            try:
                seen.add(tuple(assert_consistent(client, layout)["classes"]))
            except Exception as exc:
                if "no dataset" not in str(exc):
                    problems.append(repr(exc))

    watcher = threading.Thread(target=reader)
    watcher.start()
    args = [
        (emulator.endpoint_url, str(cifar_all_classes), CLASS_SETS[i % 4], layout.uri, str(tmp_path / f"c{i}"))
        for i in range(8)
    ]
    with (
        ThreadPoolExecutor(4) as threads,
        ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as procs,
    ):
        futures = [threads.submit(_etl_in_process, *a) for a in args[:5]] + [
            procs.submit(_etl_in_process, *a) for a in args[5:]
        ]
        outcomes = [f.result() for f in futures]
    stop.set()
    watcher.join()
    assert not problems, problems[:3]
    assert "published" in outcomes and set(outcomes) <= {"published", "conflict"}
    labels = assert_consistent(s3, layout)
    assert labels["classes"] in CLASS_SETS
    assert seen <= {tuple(c) for c in CLASS_SETS}


# -- a run killed mid-upload ------------------------------------------------------------------


def test_a_run_killed_mid_upload_leaves_the_published_version_byte_identical(
    emulator, cifar_all_classes: Path, tmp_path: Path
):
    s3 = emulator.session().client("s3")
    bucket, prefix = "scones-versions-kill", "datasets/kill"
    s3.create_bucket(Bucket=bucket)
    layout = DatasetLayout(bucket, prefix)
    run_etl(
        s3, source=str(cifar_all_classes), classes=["bicycle", "motorcycle"], dataset_uri=layout.uri, cache_dir=tmp_path
    )
    published = {
        o["Key"]: s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()
        for p in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for o in p.get("Contents", [])
    }
    big = synthetic.write_cifar_archive(tmp_path / "big.tar.gz", 400, 50, labels=[8, 48], seed=3)  # other pixels
    env = {**os.environ, **emulator.client_env()}
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "scones.cli",
            "etl",
            "--source",
            str(big),
            "--classes",
            "bicycle,motorcycle",
            "--s3-uri",
            layout.uri,
            "--cache-dir",
            str(tmp_path / "kc"),
            "--concurrency",
            "2",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # kill it once it has uploaded some images of its own version
        mine = [
            k
            for p in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=layout.versions_prefix)
            for k in (o["Key"] for o in p.get("Contents", []))
            if k not in published
        ]
        if len(mine) > 20:
            break
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL, "the run ended before it could be killed mid-upload"
    after = {k: s3.get_object(Bucket=bucket, Key=k)["Body"].read() for k in published}
    assert after == published, "every object of the published version, and the pointer, unchanged"
    assert_consistent(s3, layout)


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
