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
- persistent_*: the same two uploads into an emulator keeping its state in a folder
  (``--state-dir``, fsync on): persistent_upload_efficiency (goal >= 0.80),
  persistence_ms_per_write (the emulator's own time per key record written) and
  persistence_latency_ms_per_put (from the bare rates with and without);
- etl_peak_memory_mb: the peak resident memory of a fresh process that imports the ETL, then
  decodes, encodes and builds the manifests of the ten classes (as etl_extract_transform_s),
  next to the same for two classes and for the imports alone (import_only_peak_memory_mb):
  what the ETL itself needs is the difference.

Run: ``.venv/bin/python benchmarks/etl.py`` (about three minutes on two cores);
``--upload-only`` for the upload and persistence figures alone.
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
import requests

from scones.emulator import LOCAL_CREDENTIALS, EmulatorProcess
from scones.etl.cifar import read_cifar_archive
from scones.etl.pipeline import run_etl
from scones.etl.transform import build_manifests, iter_image_files, resolve_classes
from scones.settings import VEHICLE_CLASSES

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the tests' synthetic archive writer (tests/support, not part of the package)

from tests.support.synthetic_cifar import write_cifar_archive  # noqa: E402 - after the sys.path line above

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
        df = pd.DataFrame(
            {
                "filenames": dataset[b"filenames"],
                "labels": dataset[b"fine_labels"],
                "row": range(len(dataset[b"fine_labels"])),
            }
        )
        df = df[df["labels"].isin(label_ids)]
        folder = out / split
        folder.mkdir(exist_ok=True)

        def save(row: pd.Series, data=dataset[b"data"], folder=folder) -> None:
            pixels = data[row["row"]]
            image = np.dstack(
                (pixels[:1024].reshape(32, 32), pixels[1024:2048].reshape(32, 32), pixels[2048:].reshape(32, 32))
            )
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
    out = subprocess.run(
        [sys.executable, "-c", _PEAK_MEMORY, str(archive), ",".join(classes)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1]) / 1024


def timed(fn, *args) -> tuple[float, object]:
    t0 = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - t0, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2, help="runs of each local step; the best is kept")
    parser.add_argument(
        "--upload-only",
        action="store_true",
        help="only the upload figures, ephemeral and persistent emulator (no reference or memory steps)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=2,
        help="with --upload-only: ETL and bare uploads alternately this many times per emulator; the best is kept",
    )
    args = parser.parse_args()
    if args.upload_only:
        return upload_only(args.rounds)
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

    ref_upload = reference_upload(work / "ref")
    etl_rate, bare_rate, ephemeral = upload_rates(archive, classes, label_ids, work, state_dir=None)
    with tempfile.TemporaryDirectory(prefix="etl-bench-state-") as state:
        kept_etl_rate, kept_bare_rate, costs = upload_rates(archive, classes, label_ids, work, state_dir=Path(state))
    costs["ephemeral_rss_mb"] = ephemeral["emulator_rss_mb"]
    costs["ephemeral_cpu_ms_per_object"] = ephemeral["emulator_cpu_ms_per_object"]
    shutil.rmtree(work, ignore_errors=True)

    print(f"reference_upload_images_per_s: {ref_upload:.0f}")
    print(f"etl_end_to_end_images_per_s: {etl_rate:.0f}")
    print(f"bare_put_images_per_s: {bare_rate:.0f}")
    print(f"upload_efficiency: {etl_rate / bare_rate:.2f}")
    print_persistence(etl_rate, bare_rate, kept_etl_rate, kept_bare_rate, costs)
    print(f"speedup: {ref_best / etl_best:.2f}")


def print_persistence(
    etl_rate: float, bare_rate: float, kept_etl_rate: float, kept_bare_rate: float, costs: dict
) -> None:
    """The same uploads into an emulator that keeps its state in a folder (``--state-dir``)."""
    print(f"persistent_etl_end_to_end_images_per_s: {kept_etl_rate:.0f}")
    print(f"persistent_bare_put_images_per_s: {kept_bare_rate:.0f}")
    print(
        f"persistent_upload_efficiency: {kept_etl_rate / kept_bare_rate:.2f}  (ETL / bare puts, both into the persistent emulator; goal >= 0.80)"
    )
    print(f"persistent_vs_ephemeral_bare_put: {kept_bare_rate / bare_rate:.2f}  (ETL: {kept_etl_rate / etl_rate:.2f})")
    print(
        f"persistence_ms_per_write: {costs['ms_per_write']:.2f}  (in the emulator: key record + fsyncs, {costs['writes']} writes)"
    )
    per_put = (1 / kept_bare_rate - 1 / bare_rate) * CONCURRENCY * 1000
    print(f"persistence_latency_ms_per_put: {per_put:.2f}  (at {CONCURRENCY} concurrent puts, from the two bare rates)")
    cpu_on, cpu_off = costs["emulator_cpu_ms_per_object"], costs["ephemeral_cpu_ms_per_object"]
    print(
        f"persistence_cpu_ms_per_put: {cpu_on - cpu_off:.2f}  (emulator CPU per object: {cpu_on:.2f} persistent, "
        f"{cpu_off:.2f} ephemeral, start-up included)"
    )
    print(
        f"emulator_rss_mb: {costs['ephemeral_rss_mb']:.0f} ephemeral, {costs['emulator_rss_mb']:.0f} persistent  (holding every object uploaded)"
    )


def reference_upload(folder: Path) -> float:
    """The reference's PNG folders uploaded as ``aws s3 sync`` does, to an in-memory emulator."""
    with EmulatorProcess() as emu:
        s3 = bench_client(emu)
        files = sorted(p for p in folder.glob("*/*.png"))
        t0 = time.perf_counter()
        with ThreadPoolExecutor(10) as pool:  # aws s3 sync's default max_concurrent_requests
            list(pool.map(lambda p: s3.upload_file(str(p), "bench", f"reference/{p.parent.name}/{p.name}"), files))
        return len(files) / (time.perf_counter() - t0)


def bench_client(emu: EmulatorProcess):
    os.environ.update(LOCAL_CREDENTIALS)  # the emulator's fake keys, never real ones
    s3 = boto3.client(
        "s3",
        endpoint_url=emu.endpoint_url,
        region_name="us-east-1",
        config=boto3.session.Config(max_pool_connections=CONCURRENCY + 4),
    )
    s3.create_bucket(Bucket="bench")
    return s3


def upload_rates(
    archive: Path, classes: list[str], label_ids: list[int], work: Path, state_dir: Path | None, rounds: int = 1
) -> tuple[float, float, dict]:
    """This ETL end to end, then bare concurrent put_object calls of the same bytes, into one emulator
    (its state in ``state_dir``, None: in memory), ``rounds`` times alternately; the best images per
    second of each (the machine is shared: the best is the least disturbed), and the emulator's
    own account of time spent persisting, its CPU per object and its memory."""
    with EmulatorProcess(state_dir=state_dir) as emu:
        s3 = bench_client(emu)
        bodies = [
            f.body
            for chunk in iter_image_files(read_cifar_archive(archive, label_ids), classes, label_ids)
            for f in chunk
        ]
        etl_rates, bare_rates, objects = [], [], 0
        for round_ in range(rounds):
            t0 = time.perf_counter()
            result = run_etl(
                s3,
                source=str(archive),
                classes=classes,
                dataset_uri=f"s3://bench/etl{round_}",
                cache_dir=work / "cache",
                concurrency=CONCURRENCY,
            )
            etl_rates.append(result.uploaded / (time.perf_counter() - t0))
            shutil.rmtree(work / "cache", ignore_errors=True)
            t0 = time.perf_counter()
            with ThreadPoolExecutor(CONCURRENCY) as pool:
                list(
                    pool.map(
                        lambda ib, round_=round_: s3.put_object(
                            Bucket="bench", Key=f"bare{round_}/{ib[0]}.png", Body=ib[1]
                        ),
                        enumerate(bodies),
                    )
                )
            bare_rates.append(len(bodies) / (time.perf_counter() - t0))
            objects += result.uploaded + len(bodies)
        costs = requests.get(f"{emu.endpoint_url}/moto-api/scones/persistence", timeout=10).json() if state_dir else {}
        costs["emulator_rss_mb"] = emulator_rss_mb(emu)
        costs["emulator_cpu_ms_per_object"] = emulator_cpu_seconds(emu) * 1000 / objects
    return max(etl_rates), max(bare_rates), costs


def emulator_cpu_seconds(emu: EmulatorProcess) -> float:
    """CPU the emulator process used so far (user + system): unlike rates, not moved by other load."""
    with open(f"/proc/{emu.pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def emulator_rss_mb(emu: EmulatorProcess) -> float:
    """The emulator's resident memory once it holds both uploads (12,000 objects)."""
    with open(f"/proc/{emu.pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1024


def upload_only(rounds: int) -> None:
    """``--upload-only``: the four upload figures and persistence's cost, without the local steps."""
    archive, classes = full_size_archive(), list(VEHICLE_CLASSES)
    label_ids = resolve_classes(classes)
    work = Path(tempfile.mkdtemp(prefix="etl-bench-"))
    etl_rate, bare_rate, ephemeral = upload_rates(archive, classes, label_ids, work, state_dir=None, rounds=rounds)
    with tempfile.TemporaryDirectory(prefix="etl-bench-state-") as state:
        kept_etl_rate, kept_bare_rate, costs = upload_rates(
            archive, classes, label_ids, work, state_dir=Path(state), rounds=rounds
        )
    costs["ephemeral_rss_mb"] = ephemeral["emulator_rss_mb"]
    costs["ephemeral_cpu_ms_per_object"] = ephemeral["emulator_cpu_ms_per_object"]
    shutil.rmtree(work, ignore_errors=True)
    print(f"etl_end_to_end_images_per_s: {etl_rate:.0f}")
    print(f"bare_put_images_per_s: {bare_rate:.0f}")
    print(f"upload_efficiency: {etl_rate / bare_rate:.2f}")
    print_persistence(etl_rate, bare_rate, kept_etl_rate, kept_bare_rate, costs)


if __name__ == "__main__":
    main()
