"""A crash in the middle of an ETL upload leaves the published dataset as it was.

The ETL writes a new version under its own prefix and publishes it by swapping current.json
last (docs/dataset-layout.md). The emulator is killed -9 while the second version's images
are being uploaded; after the restart current.json still names the first version, every one
of its objects reads back byte for byte, and what the second run acknowledged before the
crash is there too (unpublished).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from scones.datasets import list_versions, resolve_dataset
from scones.etl.pipeline import run_etl
from scones.etl.transform import resolve_classes
from scones.layout import DatasetLayout
from tests.emulator_persistence.conftest import Restartable
from tests.support.synthetic_cifar import write_cifar_archive

BUCKET = "scones-persistence-etl"
LAYOUT = DatasetLayout(BUCKET, "datasets/vehicles")
CLASSES = ["bicycle", "motorcycle"]
SECOND_RUN = """
import sys, boto3
from pathlib import Path
from scones.etl.pipeline import run_etl
source, uri, cache, *classes = sys.argv[1:]
run_etl(boto3.client("s3"), source=source, classes=classes, dataset_uri=uri, cache_dir=Path(cache), concurrency=4)
"""


def _everything(s3, prefix: str) -> dict[str, bytes]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
    return {
        o["Key"]: s3.get_object(Bucket=BUCKET, Key=o["Key"])["Body"].read()
        for p in pages
        for o in p.get("Contents", [])
    }


def test_crash_mid_upload_leaves_the_published_version_unchanged(restartable: Restartable, tmp_path: Path) -> None:
    small, large = tmp_path / "small.tar.gz", tmp_path / "large.tar.gz"
    labels = resolve_classes(CLASSES)
    write_cifar_archive(small, train_per_class=10, test_per_class=2, labels=labels, seed=1)
    write_cifar_archive(large, train_per_class=1000, test_per_class=100, labels=labels, seed=2)
    s3 = restartable.session().client("s3")
    s3.create_bucket(Bucket=BUCKET)
    first = run_etl(s3, source=str(small), classes=CLASSES, dataset_uri=LAYOUT.uri, cache_dir=tmp_path / "c1")
    published = _everything(s3, LAYOUT.root(first.version))
    pointer = s3.get_object(Bucket=BUCKET, Key=LAYOUT.pointer_key)["Body"].read()

    # The second run in a process of its own: once the emulator is gone it would retry for minutes.
    runner = subprocess.Popen(
        [sys.executable, "-c", SECOND_RUN, str(large), LAYOUT.uri, str(tmp_path / "c2"), *CLASSES],
        env={**os.environ, **restartable.emulator.client_env()},
    )
    try:
        uploading = lambda: [v for v in list_versions(s3, LAYOUT) if v != first.version]  # noqa: E731 - re-evaluated on every poll
        while not (second := uploading()) or len(acknowledged := _keys(s3, LAYOUT.root(second[0]))) < 50:
            assert runner.poll() is None, "the second ETL run ended before the crash: make its archive larger"
            time.sleep(0.05)
        restartable.crash()
    finally:
        runner.kill()
        runner.wait()

    s3 = restartable.session().client("s3")
    assert s3.get_object(Bucket=BUCKET, Key=LAYOUT.pointer_key)["Body"].read() == pointer
    assert resolve_dataset(s3, LAYOUT).version == first.version
    assert _everything(s3, LAYOUT.root(first.version)) == published
    # What the second run got an answer for before the crash is kept (unpublished, for retention).
    assert set(acknowledged) <= set(_keys(s3, LAYOUT.root(second[0])))


def _keys(s3, prefix: str) -> list[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
    return [o["Key"] for p in pages for o in p.get("Contents", [])]
