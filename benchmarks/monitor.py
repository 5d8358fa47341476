"""Model-monitor benchmark: this monitor's capture analysis against the common notebook approach.

Generates a day of SageMaker Data Capture as an endpoint capturing input and output writes it
(24 hourly files under ``<endpoint>/AllTraffic/yyyy/mm/dd/hh/``; input a real CIFAR-100 test
PNG in BASE64, about 3 KB a record; output the JSON probability vector), then analyses it

- with ``scones.monitoring.analyze_capture`` (statistics of the whole window), and
- with the reference: a Python loop that reads each line with a JSON-lines reader (one
  ``json.loads`` a line, as the ``jsonlines`` package does), parses the output and appends
  the time, top confidence and predicted class to lists, then computes the same figures,

each in its own subprocess so their peak memory (RSS of the whole process tree, sampled every
20 ms, workers included) does not mix. Prints records/s, records per CPU-second and peak memory
of both, checks they agree on the figures, and last ``speedup: <x>`` (wall clock). Goals:
speedup >= 4, monitor peak < 1 GiB. On a shared machine the wall-clock figure moves with the
other load; ``cpu_efficiency`` (reference CPU time / monitor CPU time) does not.

Last, the long-window case: ``scones monitor analyze`` over a day of capture (240 records) with
a one-day window and with a 30-year one, wall time and peak memory of each; the two should be
close, since the work follows the capture files, not the window's length.

Run: ``.venv/bin/python benchmarks/monitor.py`` (1,000,000 records, ~3.5 GB in a temporary
folder, a few minutes on two cores); ``--records 100000`` for a quick look.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from scones.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the tests' capture-record builder (tests/support, not part of the package)

from tests.support.capture_records import capture_line  # noqa: E402 - after the sys.path line above

SHARED_DATA = ROOT.parent / "shared" / "data" / "cifar-100-python-bikes.tar.gz"
CLASSES = ("bicycle", "motorcycle")
DAY = datetime(2026, 11, 23, tzinfo=UTC)
THRESHOLD = 0.93
#: The capture is written under the endpoint's name, as SageMaker does: the default project's, from its one owner.
ENDPOINT = load_settings(environ={}).names.endpoint


def test_pngs() -> tuple[list[str], np.ndarray]:
    """Base64 PNGs of the real CIFAR-100 test images (bicycle, motorcycle) and their labels."""
    from PIL import Image

    if SHARED_DATA.exists():
        from scones.etl.cifar import read_cifar_archive
        from scones.etl.transform import rows_to_images

        split = read_cifar_archive(SHARED_DATA, [8, 48]).splits["test"]
        images, labels = rows_to_images(split.data), (split.fine_labels == 48).astype(np.int64)
    else:  # no shared data: smooth random images compress like photos, not like noise
        print(f"{SHARED_DATA} not found: generating images", file=sys.stderr)
        rng = np.random.default_rng(0)
        small = rng.integers(0, 256, (200, 8, 8, 3), dtype=np.uint8)
        images, labels = small.repeat(4, axis=1).repeat(4, axis=2), rng.integers(0, 2, 200)
    encoded = []
    for image in images:
        buffer = io.BytesIO()
        Image.fromarray(image).save(buffer, format="PNG")  # what plt.imsave / PIL write by default
        encoded.append(base64.b64encode(buffer.getvalue()).decode())
    return encoded, labels


def generate(folder: Path, records: int, files: int, encoding: str, seed: int = 7) -> int:
    """Write ``records`` capture lines over ``files`` hourly files; return the bytes written."""
    pngs, labels = test_pngs()
    rng = np.random.default_rng(seed)
    per_file = np.full(files, records // files)
    per_file[: records % files] += 1
    written = 0
    for hour, count in enumerate(per_file):
        start = DAY + timedelta(hours=hour)
        image = rng.integers(0, len(pngs), count)
        # A model right 83% of the time, mostly confident; confidence drawn from Beta(8, 1).
        right = rng.random(count) < 0.83
        confidence = np.clip(0.5 + 0.5 * rng.beta(8, 1, count), 0.5, 1.0).astype(np.float32)
        predicted = np.where(right, labels[image], 1 - labels[image])
        seconds = np.sort(rng.integers(0, 3600, count))
        ids = rng.integers(0, 2**63, (count, 2))
        folder_hour = folder / ENDPOINT / "AllTraffic" / start.strftime("%Y/%m/%d/%H")
        folder_hour.mkdir(parents=True, exist_ok=True)
        path = folder_hour / f"{start.strftime('%M-%S')}-000-{ids[0, 0]:016x}.jsonl"
        with open(path, "w", buffering=1 << 22) as f:
            lines = []
            for i in range(count):
                top = float(confidence[i])
                other = float(np.float32(1.0 - top))
                vector = f"[{top!r}, {other!r}]" if predicted[i] == 0 else f"[{other!r}, {top!r}]"
                when = (start + timedelta(seconds=int(seconds[i]))).strftime("%Y-%m-%dT%H:%M:%SZ")
                event = f"{ids[i, 0]:016x}{ids[i, 1]:016x}"
                event = f"{event[:8]}-{event[8:12]}-{event[12:16]}-{event[16:20]}-{event[20:32]}"
                lines.append(
                    capture_line(vector, when, encoding=encoding, event_id=event, input_b64=pngs[image[i]]) + "\n"
                )
                if len(lines) == 4096:
                    f.write("".join(lines))
                    lines.clear()
            f.write("".join(lines))
        written += path.stat().st_size
    return written


def run_reference(folder: Path) -> dict:
    """The notebook way: a loop over lines, one json.loads each, appending to lists."""
    times, confidences, predicted = [], [], []
    malformed = 0
    for path in sorted(folder.rglob("*.jsonl")):
        with open(path) as f:
            for line in f:  # jsonlines.Reader does exactly this: json.loads per line
                try:
                    obj = json.loads(line)
                    output = obj["captureData"]["endpointOutput"]
                    data = output["data"]
                    if output["encoding"] == "BASE64":
                        data = base64.b64decode(data)
                    inference = json.loads(data)
                    timestamp = obj["eventMetadata"]["inferenceTime"]
                except (ValueError, KeyError, TypeError):
                    malformed += 1
                    continue
                top = max(inference)
                times.append(timestamp)
                confidences.append(top)
                predicted.append(inference.index(top))
    confidence = np.array(confidences)
    counts = np.bincount(np.array(predicted, dtype=np.int64), minlength=len(CLASSES))
    return {
        "records": len(confidence),
        "malformed": malformed,
        "low_confidence_rate": float(np.mean(confidence < THRESHOLD)) if len(confidence) else None,
        "class_counts": counts.tolist(),
        "median": float(np.median(confidence)) if len(confidence) else None,
    }


def run_monitor(folder: Path, workers: int | None) -> dict:
    from scones.monitoring import Thresholds, Window, analyze_capture

    analysis = analyze_capture(
        str(folder),
        Window.for_day(DAY.date()),
        classes=CLASSES,
        thresholds=Thresholds(confidence_threshold=THRESHOLD),
        workers=workers,
    )
    s = analysis.statistics
    return {
        "records": s.records,
        "malformed": s.malformed_count,
        "low_confidence_rate": s.low_confidence_rate,
        "class_counts": s.class_counts.tolist(),
        "median": s.quantiles().get("p50"),
    }


def _cpu_seconds() -> float:
    """CPU time of this process and of its reaped children (the monitor's workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def child(which: str, folder: Path, workers: int | None) -> None:
    """Run one implementation and print its figures and time as JSON (the parent measures memory)."""
    if which == "monitor":
        import scones.monitoring.analyze  # noqa: F401  imports are not the work being timed

    cpu0, t0 = _cpu_seconds(), time.perf_counter()
    result = run_reference(folder) if which == "reference" else run_monitor(folder, workers)
    result["seconds"] = time.perf_counter() - t0
    result["cpu_seconds"] = _cpu_seconds() - cpu0
    print(json.dumps(result))


def run_sampled(command: list[str]) -> tuple[str, float, float]:
    """Run ``command``; its stdout, wall seconds and peak RSS (MiB) of its whole process tree."""
    import psutil

    t0 = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    root, peak = psutil.Process(process.pid), 0
    while process.poll() is None:
        try:
            tree = [root, *root.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
        except psutil.Error:
            pass  # a worker exited between listing and reading: sample again
        time.sleep(0.02)
    out, _ = process.communicate()
    if process.returncode:
        raise SystemExit(f"{command[:4]} failed with exit code {process.returncode}")
    return out, time.perf_counter() - t0, peak / 2**20


def measure(which: str, folder: Path, workers: int | None) -> dict:
    """Run ``which`` in a subprocess; sample the RSS of its whole process tree."""
    command = [sys.executable, __file__, "--child", which, "--data", str(folder)]
    if workers:
        command += ["--workers", str(workers)]
    out, _, peak_mib = run_sampled(command)
    result = json.loads(out.strip().splitlines()[-1])
    result["peak_rss_mib"] = peak_mib
    return result


def long_window(records: int = 240) -> None:
    """``scones monitor analyze`` over a day of capture with a one-day and a 30-year window:
    the work must follow the capture files that exist, not the hours the window spans."""
    folder = Path(tempfile.mkdtemp(prefix="monitor-long-window-"))
    try:
        generate(folder / "capture", records, 24, "JSON")
        for label, start, end in (
            ("one_day", "2026-11-23", "2026-11-24"),
            ("thirty_years", "2000-01-01", "2030-01-01"),
        ):
            command = [
                sys.executable,
                "-m",
                "scones.cli",
                "monitor",
                "analyze",
                "--input",
                str(folder / "capture"),
                "--out",
                str(folder / label),
                "--start",
                start,
                "--end",
                end,
            ]
            _, seconds, peak_mib = run_sampled(command)
            print(f"long_window_{label}_seconds: {seconds:.2f} ({records} records, {start} to {end})")
            print(f"long_window_{label}_peak_rss_mib: {peak_mib:,.0f}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--files", type=int, default=24, help="hourly files (default 24: one day)")
    parser.add_argument(
        "--encoding",
        choices=("JSON", "BASE64"),
        default="JSON",
        help="endpointOutput encoding (JSON: application/json listed in JsonContentTypes)",
    )
    parser.add_argument("--workers", type=int, help="monitor decoding processes (default: all cores)")
    parser.add_argument("--data", type=Path, help="reuse (or keep) capture data in this folder")
    parser.add_argument("--child", choices=("reference", "monitor"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child, args.data, args.workers)

    folder = args.data or Path(tempfile.mkdtemp(prefix="monitor-bench-"))
    try:
        size = sum(p.stat().st_size for p in folder.rglob("*.jsonl"))
        if not size:
            print(f"generating {args.records:,} records in {folder} ...", file=sys.stderr, flush=True)
            t0 = time.perf_counter()
            size = generate(folder, args.records, args.files, args.encoding)
            print(f"generated in {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
        files = len(list(folder.rglob("*.jsonl")))
        monitor = measure("monitor", folder, args.workers)
        reference = measure("reference", folder, None)
        records = reference["records"]
        print(
            f"records: {records:,} in {files} files, {size / 1e9:.2f} GB ({size / max(records, 1):,.0f} bytes a record), "
            f"cores: {len(os.sched_getaffinity(0))}"
        )
        agree = (
            all(monitor[k] == reference[k] for k in ("records", "malformed", "class_counts"))
            and abs(monitor["low_confidence_rate"] - reference["low_confidence_rate"]) < 1e-9
            and abs(monitor["median"] - reference["median"]) < 2e-4
        )  # the monitor's quantiles are exact to its 1e-4 histogram bins
        print(
            f"results_agree: {agree} (low_confidence_rate {monitor['low_confidence_rate']:.4f}, "
            f"median {monitor['median']:.4f} vs {reference['median']:.4f})"
        )
        for name, result in (("reference", reference), ("monitor", monitor)):
            print(f"{name}_records_per_s: {result['records'] / result['seconds']:,.0f}")
            print(f"{name}_mb_per_s: {size / 1e6 / result['seconds']:,.0f}")
            print(f"{name}_records_per_cpu_s: {result['records'] / result['cpu_seconds']:,.0f}")
            print(f"{name}_peak_rss_mib: {result['peak_rss_mib']:,.0f}")
        # Wall-clock speedup depends on getting both cores; CPU efficiency does not (a shared machine).
        print(f"cpu_efficiency: {reference['cpu_seconds'] / monitor['cpu_seconds']:.2f}")
        print(f"speedup: {reference['seconds'] / monitor['seconds']:.2f}")
        if not agree:
            raise SystemExit("the monitor and the reference disagree: see above")
        long_window()
    finally:
        if args.data is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
