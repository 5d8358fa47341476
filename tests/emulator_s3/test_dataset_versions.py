"""Dataset versions published by several processes sharing one S3, the emulator's (issue 17):
concurrent publishers, and a run killed mid-upload. The single-process cases run on in-process
moto: tests/etl/test_versions.py.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

from scones.errors import PublishConflict
from scones.etl.pipeline import run_etl
from scones.layout import DatasetLayout
from tests.support import synthetic_cifar as synthetic
from tests.support.dataset_checks import assert_consistent

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
