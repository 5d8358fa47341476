"""Batch transform's work is bounded: requests are packed in linear time, and chunks share one emulator-wide pool."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from scones.emulator.sagemaker import transform
from scones.emulator.sagemaker.storage import S3Uri
from scones.emulator.sagemaker.transform import InputObject, TransformPlan, TransformRun

ITEM = InputObject(S3Uri.parse("s3://bucket/in/lines.txt"), "lines.txt")


def plan(
    workers: int = 1, inputs: tuple[InputObject, ...] = (ITEM,), max_payload_bytes: int = 6 * 1024 * 1024
) -> TransformPlan:
    return TransformPlan(
        inputs=inputs,
        output=S3Uri.parse("s3://bucket/out/"),
        split_lines=True,
        multi_record=True,
        max_payload_bytes=max_payload_bytes,
        workers=workers,
        jsonlines=False,
        assemble_lines=False,
    )


class CountedRecord(bytes):
    """A record that counts how often its length is asked for."""

    lengths = 0

    def __len__(self) -> int:
        CountedRecord.lengths += 1
        return super().__len__()


class CountedBody(bytes):
    def split(self, sep: Any = None, maxsplit: int = -1) -> list[bytes]:  # type: ignore[override]
        return [CountedRecord(r) for r in super().split(sep, maxsplit)]


def test_multi_record_packing_is_linear_in_the_records() -> None:
    records = 5_000
    CountedRecord.lengths = 0

    requests = TransformRun._requests(plan(), ITEM, CountedBody(b"ab\n" * records))

    assert requests == [b"\n".join([b"ab"] * records)]  # all in one request under 6 MB
    # Re-summing the request per record (the old packing) asked for ~records**2 / 2 lengths:
    # a 6 MB object of short lines took hours.
    assert CountedRecord.lengths <= 4 * records


def test_multi_record_packing_splits_at_max_payload() -> None:
    requests = TransformRun._requests(plan(max_payload_bytes=8), ITEM, b"abc\ndef\nghi\n")
    assert requests == [b"abc\ndef", b"ghi"]  # 3 + 1 + 3 bytes fit in 8; the third would make 11


class FakeJob:
    transform_job_name = "fake"

    def stop_requested(self) -> bool:
        return False


def test_concurrent_transform_jobs_share_a_bounded_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    lock, live, peak = threading.Lock(), [0], [0]

    def slow_chunk(self: TransformRun, plan: TransformPlan, model: Any, chunk: tuple) -> None:
        with lock:
            live[0] += 1
            peak[0] = max(peak[0], live[0])
        time.sleep(0.05)
        with lock:
            live[0] -= 1

    monkeypatch.setattr(TransformRun, "_transform_chunk", slow_chunk)
    many = plan(workers=8, inputs=(ITEM,) * (transform.CHUNK * 8))
    runs = []
    for _ in range(4):  # four jobs, each asking for 8 concurrent transforms
        run = TransformRun.__new__(TransformRun)
        run.job = FakeJob()  # type: ignore[assignment]
        runs.append(threading.Thread(target=run.transform, args=(many, None)))
    for thread in runs:
        thread.start()
    for thread in runs:
        thread.join(timeout=30)

    assert peak[0] <= transform.MAX_WORKERS  # not 4 jobs x their own pools


def test_the_first_failing_chunk_in_input_order_is_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    def failing_chunk(self: TransformRun, plan: TransformPlan, model: Any, chunk: tuple) -> None:
        raise transform.TransformFailed(f"chunk of {len(chunk)}")

    monkeypatch.setattr(TransformRun, "_transform_chunk", failing_chunk)
    run = TransformRun.__new__(TransformRun)
    run.job = FakeJob()  # type: ignore[assignment]
    with pytest.raises(transform.TransformFailed, match=f"chunk of {transform.CHUNK}"):
        run.transform(plan(workers=2, inputs=(ITEM,) * (transform.CHUNK + 1)), None)
