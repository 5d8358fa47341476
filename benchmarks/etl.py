"""ETL benchmark: this ETL against the original notebook's approach, and against bare S3 puts.

Generates a full-size CIFAR-100 archive (50,000 + 10,000 rows, all 100 classes; cached under
.cache/bench/) and, for the ten vehicle classes (6,000 images), prints:

- reference_extract_transform_s: the notebook's way: extract the tarball to disk, unpickle,
  filter with pandas, ``apply`` a function that stacks the planes and ``plt.imsave``s a PNG;
- etl_extract_transform_s: this ETL's decompress + decode + encode + manifests (no upload);
- decompress_only_s: gunzip of the whole archive with ISA-L, the floor of any transform;
- reference_upload_images_per_s: the reference's folders uploaded with 10 concurrent
  transfers (what ``aws s3 sync`` does by default) to the local emulator;
- etl_end_to_end_images_per_s / bare_put_images_per_s: this ETL end to end against the
  emulator, and bare concurrent ``put_object`` calls of the same bytes to the same emulator;
- upload_efficiency (ETL end to end / bare puts) and, last, speedup (reference extract +
  transform time / this ETL's);
- etl_peak_memory_mb: the peak resident memory of a fresh process that imports the ETL, then
  decodes, encodes and builds the manifests of the ten classes (as etl_extract_transform_s),
  next to the same for two classes and for the imports alone (import_only_peak_memory_mb):
  what the ETL itself needs is the difference.

Run: ``.venv/bin/python benchmarks/etl.py`` (about two minutes on two cores).
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import numpy as np

from scones.emulator import LOCAL_CREDENTIALS, EmulatorProcess
from scones.etl.cifar import read_cifar_archive
from scones.etl.pipeline import run_etl
from scones.etl.transform import build_manifests, iter_image_files, resolve_classes
from scones.settings import VEHICLE_CLASSES

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the tests' synthetic archive writer (tests/support, not part of the package)

from tests.support.synthetic_cifar import write_cifar_archive  # noqa: E402
CACHE = ROOT / ".cache" / "bench"
CONCURRENCY = 16


def full_size_archive() -> Path:
    path = CACHE / "cifar-100-python-full-synthetic.tar.gz"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        print("generating a full-size CIFAR-100 archive (once)...", file=sys.stderr, flush=True)
        write_cifar_archive(path.with_suffix(".tmp"), train_per_class=500, test_per_class=100, seed=7)
        path.with_suffix(".tmp").rename(path)
    return path


def reference_extract_transform(archive: Path, out: Path, label_ids: list[int]) -> int:
    """The original notebook: extract to disk, unpickle, pandas filter, apply + plt.imsave."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    with tarfile.open(archive, "r:gz") as tar:
        tar.extractall(out, filter="data")
    written = 0
    for split in ("train", "test"):
        with open(out / "cifar-100-python" / split, "rb") as f:
            dataset = pickle.load(f, encoding="bytes")
        df = pd.DataFrame({
            "filenames": dataset[b"filenames"],
            "labels": dataset[b"fine_labels"],
            "row": range(len(dataset[b"fine_labels"])),
        })  # fmt: skip
        df = df[df["labels"].isin(label_ids)]
        folder = out / split
        folder.mkdir(exist_ok=True)

        def save(row: pd.Series, data=dataset[b"data"], folder=folder) -> None:
            pixels = data[row["row"]]
            image = np.dstack((pixels[:1024].reshape(32, 32), pixels[1024:2048].reshape(32, 32),
                               pixels[2048:].reshape(32, 32)))  # fmt: skip
            plt.imsave(folder / row["filenames"].decode(), image)

        df.apply(save, axis=1)
        written += len(df)
    return written


def etl_extract_transform(archive: Path, classes: list[str], label_ids: list[int]) -> int:
    data = read_cifar_archive(archive, label_ids)
    build_manifests(data, classes, label_ids)
    return sum(len(chunk) for chunk in iter_image_files(data, classes, label_ids))


def decompress_only(archive: Path) -> None:
    from isal import igzip

    with igzip.open(archive, "rb") as f:
        while f.read(1 << 22):
            pass


_PEAK_MEMORY = """
import json, sys
from pathlib import Path
from scones.etl.cifar import read_cifar_archive
from scones.etl.transform import build_manifests, iter_image_files, resolve_classes
archive, classes = Path(sys.argv[1]), [c for c in sys.argv[2].split(",") if c]
if classes:
    ids = resolve_classes(classes)
    data = read_cifar_archive(archive, ids)
    build_manifests(data, classes, ids)
    sum(len(chunk) for chunk in iter_image_files(data, classes, ids))
# VmHWM, not ru_maxrss: Linux carries the parent's peak into ru_maxrss across fork + exec.
print(json.dumps(next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))))  # KiB
"""


def peak_memory_mb(archive: Path, classes: list[str]) -> float:
    """Peak RSS of a fresh process running the ETL's extract + transform (no classes: imports only)."""
    out = subprocess.run([sys.executable, "-c", _PEAK_MEMORY, str(archive), ",".join(classes)],
                         check=True, capture_output=True, text=True).stdout  # fmt: skip
    return json.loads(out.strip().splitlines()[-1]) / 1024


def timed(fn, *args) -> tuple[float, object]:
    t0 = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - t0, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2, help="runs of each local step; the best is kept")
    args = parser.parse_args()
    archive = full_size_archive()
    classes = list(VEHICLE_CLASSES)
    label_ids = resolve_classes(classes)
    print(f"archive: {archive.stat().st_size / 1e6:.0f} MB, classes: {len(classes)}, cores: {os.cpu_count()}")

    ref_times, work = [], Path(tempfile.mkdtemp(prefix="etl-bench-"))
    for _ in range(args.repeat):
        shutil.rmtree(work / "ref", ignore_errors=True)
        seconds, images = timed(reference_extract_transform, archive, work / "ref", label_ids)
        ref_times.append(seconds)
    etl_times = [timed(etl_extract_transform, archive, classes, label_ids)[0] for _ in range(args.repeat)]
    floor = min(timed(decompress_only, archive)[0] for _ in range(args.repeat))
    ref_best, etl_best = min(ref_times), min(etl_times)
    print(f"images: {images}")
    print(f"reference_extract_transform_s: {ref_best:.2f}")
    print(f"etl_extract_transform_s: {etl_best:.2f}")
    print(f"decompress_only_s: {floor:.2f}")
    print(f"import_only_peak_memory_mb: {peak_memory_mb(archive, []):.0f}")
    print(f"etl_peak_memory_two_classes_mb: {peak_memory_mb(archive, classes[:2]):.0f}")
    print(f"etl_peak_memory_mb: {peak_memory_mb(archive, classes):.0f}")

    with EmulatorProcess() as emu:
        os.environ.update(LOCAL_CREDENTIALS)  # the emulator's fake keys, never real ones
        s3 = boto3.client("s3", endpoint_url=emu.endpoint_url, region_name="us-east-1",
                          config=boto3.session.Config(max_pool_connections=CONCURRENCY + 4))  # fmt: skip
        s3.create_bucket(Bucket="bench")
        files = sorted(p for p in (work / "ref").glob("*/*.png"))
        t0 = time.perf_counter()
        with ThreadPoolExecutor(10) as pool:  # aws s3 sync's default max_concurrent_requests
            list(pool.map(lambda p: s3.upload_file(str(p), "bench", f"reference/{p.parent.name}/{p.name}"), files))
        ref_upload = len(files) / (time.perf_counter() - t0)

        t0 = time.perf_counter()
        result = run_etl(s3, source=str(archive), classes=classes, dataset_uri="s3://bench/etl",
                         cache_dir=work / "cache", concurrency=CONCURRENCY)  # fmt: skip
        etl_rate = result.uploaded / (time.perf_counter() - t0)

        bodies = [f.body for chunk in iter_image_files(read_cifar_archive(archive, label_ids), classes, label_ids) for f in chunk]
        t0 = time.perf_counter()
        with ThreadPoolExecutor(CONCURRENCY) as pool:
            list(pool.map(lambda ib: s3.put_object(Bucket="bench", Key=f"bare/{ib[0]}.png", Body=ib[1]), enumerate(bodies)))
        bare_rate = len(bodies) / (time.perf_counter() - t0)
    shutil.rmtree(work, ignore_errors=True)

    print(f"reference_upload_images_per_s: {ref_upload:.0f}")
    print(f"etl_end_to_end_images_per_s: {etl_rate:.0f}")
    print(f"bare_put_images_per_s: {bare_rate:.0f}")
    print(f"upload_efficiency: {etl_rate / bare_rate:.2f}")
    print(f"speedup: {ref_best / etl_best:.2f}")


if __name__ == "__main__":
    main()
