"""Large S3 objects through the emulator: its peak memory and the throughput, per operation.

For an emulator keeping its state in a folder (a temporary one) and for an ephemeral one,
uploads one object of ``--size-mb`` (default 512) with a single PutObject, downloads it, then
the same with a multipart upload (``--part-mb`` parts, two in flight, as boto3's transfer
manager sends them) and downloads it again. The object is a file written once in chunks and
sent from disk; downloads go to a sink that hashes them: the client holds neither in memory.

Printed per mode and operation: MB/s, and the emulator's peak resident memory during the
operation above its idle size (VmRSS sampled every 10 ms, minus VmRSS once started with an
empty bucket: a later operation can reuse memory an earlier one freed, so growth from the
operation's own start would under-count), with its VmHWM (peak resident memory since it
started) at the end. A download is checked against the upload's MD5. The emulator's own
account of which bodies it streamed (``/moto-api/scones/s3-streaming``) is printed last.

Run: ``.venv/bin/python benchmarks/s3_large_objects.py`` (``--size-mb 128`` for a quick look;
``--modes persistent`` for one mode).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import tempfile
import threading
import time
from pathlib import Path

import requests
from boto3.s3.transfer import TransferConfig

from scones.emulator import EmulatorProcess

MB = 1024 * 1024


def write_body(path: Path, size: int) -> str:
    """A file of ``size`` bytes, written 4 MB at a time (not compressible, not all the same); its MD5."""
    digest = hashlib.md5()
    block = os.urandom(4 * MB)
    with open(path, "wb") as out:
        written, n = 0, 0
        while written < size:
            chunk = (n.to_bytes(8, "big") + block)[: min(4 * MB, size - written)]
            out.write(chunk)
            digest.update(chunk)
            written += len(chunk)
            n += 1
    return digest.hexdigest()


class HashingSink:
    """What download_fileobj writes to: counted and hashed, never kept."""

    def __init__(self) -> None:
        self.md5 = hashlib.md5()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.md5.update(data)
        self.size += len(data)
        return len(data)


def _status(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field + ":")) * 1024


class RssSampler:
    """The emulator's VmRSS, sampled every 10 ms while an operation runs; its peak above ``idle``."""

    def __init__(self, pid: int, idle: int) -> None:
        self.pid = pid
        self.idle = idle

    def __enter__(self) -> RssSampler:
        self.peak = _status(self.pid, "VmRSS")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, _status(self.pid, "VmRSS"))

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _status(self.pid, "VmRSS"))

    @property
    def above_idle_mb(self) -> float:
        return (self.peak - self.idle) / MB


def measure(mode: str, body: Path, md5: str, size: int, part_size: int) -> None:
    with tempfile.TemporaryDirectory(prefix="s3-large-state-") as state:
        emulator = EmulatorProcess(state_dir=Path(state) if mode == "persistent" else None).start()
        try:
            s3 = emulator.session().client("s3")
            s3.create_bucket(Bucket="large")
            transfer = TransferConfig(multipart_threshold=part_size, multipart_chunksize=part_size, max_concurrency=2)
            single = TransferConfig(multipart_threshold=size + 1, max_concurrency=1)
            idle = _status(emulator.pid, "VmRSS")
            print(f"{mode} emulator idle: {idle / MB:.0f} MB", flush=True)

            def run(name: str, operation) -> None:
                with RssSampler(emulator.pid, idle) as rss:
                    started = time.perf_counter()
                    operation()
                    elapsed = time.perf_counter() - started
                print(
                    f"{mode} {name}: {size / MB / elapsed:.0f} MB/s, emulator peak {rss.peak / MB:.0f} MB "
                    f"(+{rss.above_idle_mb:.0f} MB above idle)",
                    flush=True,
                )

            def download(key: str, config: TransferConfig) -> None:
                sink = HashingSink()
                s3.download_fileobj("large", key, sink, Config=config)
                assert (sink.size, sink.md5.hexdigest()) == (size, md5), f"{key} came back different"

            def put_single() -> None:
                with open(body, "rb") as data:
                    s3.put_object(Bucket="large", Key="single", Body=data)

            def put_multipart() -> None:
                with open(body, "rb") as data:
                    s3.upload_fileobj(data, "large", "multipart", Config=transfer)

            run("put_object", put_single)
            run("get_object", lambda: download("single", single))
            run("multipart_upload", put_multipart)
            run("get_object_after_multipart", lambda: download("multipart", single))
            print(f"{mode} emulator_vmhwm_mb: {_status(emulator.pid, 'VmHWM') / MB:.0f}", flush=True)
            streamed = requests.get(f"{emulator.endpoint_url}/moto-api/scones/s3-streaming", timeout=10)
            print(f"{mode} streaming: {streamed.text if streamed.ok else 'not in this version'}", flush=True)
        finally:
            emulator.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=512, help="the object's size (default 512)")
    parser.add_argument("--part-mb", type=int, default=64, help="multipart upload's part size (default 64)")
    parser.add_argument("--modes", default="ephemeral,persistent", help="ephemeral, persistent or both (default)")
    args = parser.parse_args()
    size, part_size = args.size_mb * MB, args.part_mb * MB
    with tempfile.TemporaryDirectory(prefix="s3-large-body-") as folder:
        body = Path(folder) / "body"
        md5 = write_body(body, size)
        print(f"object: {args.size_mb} MB, multipart parts of {args.part_mb} MB", flush=True)
        for mode in args.modes.split(","):
            measure(mode, body, md5, size, part_size)


if __name__ == "__main__":
    main()
