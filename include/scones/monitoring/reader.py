"""Read a window's capture, file by file, on every core, with memory that stays flat.

Each file is decoded by :func:`~scones.monitoring.capture_decode.read_capture_file` in a worker
process (decoding holds the GIL, so threads would not help) and comes back as small columns;
the caller folds them into statistics and drops them. S3 objects are downloaded a few files
ahead of the workers into a temporary folder and deleted once decoded, so neither memory nor
disk grows with the window.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
import tempfile
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from scones.monitoring.capture_decode import Decoded, read_capture_file
from scones.monitoring.errors import CaptureSourceError, WindowError
from scones.monitoring.sources import CaptureObject, local_capture_files, s3_capture_objects

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from scones.monitoring.window import Window

logger = logging.getLogger(__name__)

PARALLEL_MIN_BYTES = 32 << 20  # below this, starting worker processes costs more than it saves
DOWNLOAD_THREADS = 4


class _InlineExecutor(Executor):
    """Runs each call at once in this process: small windows, tests, ``workers=1``."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # handed to the caller through the future, as a pool would
            future.set_exception(exc)
        return future


def _start_pool(workers: int) -> ProcessPoolExecutor | None:
    # fork starts a worker in milliseconds (spawn re-imports numpy: ~1 s a worker here), but
    # is only safe in a single-threaded process on Linux; anywhere else, spawn.
    safe_fork = sys.platform.startswith("linux") and threading.active_count() == 1
    context = multiprocessing.get_context("fork" if safe_fork else "spawn")
    pool = None
    try:
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
        # Start workers now: a fork pool must fork before the caller starts threads (S3
        # downloads), and a process that may not have children finds out before any work.
        pool.submit(os.getpid).result()
    except (AssertionError, OSError, BrokenProcessPool) as exc:  # e.g. "daemonic processes..."
        logger.warning("cannot start %d decoding processes (%s): decoding in this process", workers, exc)
        if pool is not None:
            pool.shutdown(cancel_futures=True)
        return None
    return pool


@contextmanager
def _executor(workers: int, total_bytes: int) -> Iterator[Executor]:
    pool = _start_pool(workers) if workers > 1 and total_bytes >= PARALLEL_MIN_BYTES else None
    if pool is None:
        yield _InlineExecutor()
        return
    with pool:
        yield pool


def _result(future: Future[Decoded], location: str) -> Decoded:
    try:
        return future.result()
    except OSError as exc:  # vanished or unreadable between listing and reading
        raise CaptureSourceError(f"cannot read capture file {location}: {exc}") from exc


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def read_capture(
    input_uri: str,
    window: Window | None,
    n_classes: int,
    *,
    s3: S3Client | None = None,
    workers: int | None = None,
) -> Iterator[Decoded]:
    """Decoded inferences of every capture file of the window, one file at a time.

    :param input_uri: ``s3://bucket/prefix`` (capture root, endpoint or variant) or a local
        folder searched recursively for ``.jsonl``.
    :param window: only records with ``start <= inferenceTime < end``; ``None`` (local only)
        reads everything.
    :param n_classes: the length of every probability vector.
    :param s3: the S3 client for an ``s3://`` input.
    :param workers: decoding processes (default: the usable cores).
    :raises CaptureSourceError: the folder or bucket cannot be read.
    """
    workers = workers or default_workers()
    bounds = {"start_us": window.start_us, "end_us": window.end_us} if window is not None else {}
    decode = partial(read_capture_file, n_classes=n_classes, **bounds)
    if input_uri.startswith("s3://"):
        if window is None:
            raise WindowError("an s3:// input needs a window: only its hourly partitions are listed")
        if s3 is None:
            raise CaptureSourceError("an s3:// input needs an S3 client")
        objects = s3_capture_objects(s3, input_uri, window)
        yield from _read_s3(s3, objects, decode, workers)
    else:
        objects = local_capture_files(input_uri, window)
        with _executor(workers, sum(o.size for o in objects)) as executor:
            pending = {executor.submit(decode, o.location): o.location for o in objects}
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    yield _result(future, pending.pop(future))


def _download(s3: S3Client, obj: CaptureObject, folder: Path, index: int) -> Path:
    path = folder / f"{index:06d}.jsonl"
    try:
        s3.download_file(obj.bucket, obj.location, str(path))
    except (ClientError, BotoCoreError) as exc:
        raise CaptureSourceError(f"cannot download {obj.uri}: {exc}") from exc
    return path


def _read_s3(
    s3: S3Client, objects: list[CaptureObject], decode: Callable[..., Decoded], workers: int
) -> Iterator[Decoded]:
    # The process pool is created before any download thread exists, so it may fork safely.
    with (
        _executor(workers, sum(o.size for o in objects)) as executor,
        tempfile.TemporaryDirectory(prefix="scones-capture-") as tmp,
        ThreadPoolExecutor(DOWNLOAD_THREADS, thread_name_prefix="capture-download") as downloads,
    ):
        queue = iter(enumerate(objects))
        downloading: deque[tuple[Future[Path], CaptureObject]] = deque()
        decoding: dict[Future[Decoded], tuple[Path, CaptureObject]] = {}

        def fetch_next() -> None:
            for index, obj in queue:
                downloading.append((downloads.submit(_download, s3, obj, Path(tmp), index), obj))
                return

        for _ in range(workers + DOWNLOAD_THREADS):  # stay a few files ahead of the workers
            fetch_next()
        while downloading or decoding:
            if downloading and len(decoding) < 2 * workers:
                future, obj = downloading.popleft()
                path = future.result()
                decoding[executor.submit(decode, str(path), source=obj.uri)] = (path, obj)
                fetch_next()
                continue
            done, _ = wait(decoding, return_when=FIRST_COMPLETED)
            for finished in done:
                path, obj = decoding.pop(finished)
                path.unlink(missing_ok=True)
                yield _result(finished, obj.uri)
