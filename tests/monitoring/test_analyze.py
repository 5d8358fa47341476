from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from scones.monitoring import reader
from scones.monitoring.analyze import analyze_capture
from scones.monitoring.checks import Thresholds
from scones.monitoring.drift import baseline_from_json
from scones.monitoring.window import Window

from .conftest import CAPTURE_PREFIX, TEST_BUCKET, capture_line, partition_key, put_lines, write_lines

WINDOW = Window("2026-11-23T10:00:00Z", "2026-11-23T11:00:00Z")
CAPTURE_URI = f"s3://{TEST_BUCKET}/{CAPTURE_PREFIX}"


def test_s3_window_end_to_end_with_hour_boundaries_and_both_encodings(s3):
    put_lines(
        s3,
        f"{CAPTURE_PREFIX}/{partition_key('2026-11-23T09:00:00Z')}",
        [
            capture_line([0.99, 0.01], "2026-11-23T09:59:59Z"),  # previous hour: never listed
        ],
    )
    put_lines(
        s3,
        f"{CAPTURE_PREFIX}/{partition_key('2026-11-23T10:00:00Z', 'a.jsonl')}",
        [
            capture_line([0.99, 0.01], "2026-11-23T10:00:00Z"),  # first instant of the window: in
            capture_line([0.20, 0.80], "2026-11-23T10:30:00Z", encoding="BASE64"),  # low confidence
            capture_line([0.95, 0.05], "2026-11-23T09:59:59Z"),  # written late into 10/: out of window
            "{not json",
        ],
    )
    put_lines(
        s3,
        f"{CAPTURE_PREFIX}/{partition_key('2026-11-23T10:00:00Z', 'b.jsonl')}",
        [
            capture_line([0.03, 0.97], "2026-11-23T10:59:59.999Z"),  # last instant: in
        ],
    )
    put_lines(
        s3,
        f"{CAPTURE_PREFIX}/{partition_key('2026-11-23T11:00:00Z')}",
        [
            capture_line([0.99, 0.01], "2026-11-23T11:00:00Z"),  # window end is excluded
        ],
    )
    analysis = analyze_capture(CAPTURE_URI, WINDOW, s3=s3, endpoint="scones-endpoint")
    s = analysis.statistics
    assert s.records == 3
    assert s.class_counts.tolist() == [1, 2]
    assert s.low_confidence == 1 and s.low_confidence_rate == pytest.approx(1 / 3)
    assert s.malformed == {"invalid_json": 1} and s.out_of_window == 1
    assert s.files == 2, "only the 10:00 partition is read"
    assert [v.check for v in analysis.violations] == ["low_confidence_rate", "malformed_rate"]


def test_an_empty_window_is_a_valid_result(s3):
    analysis = analyze_capture(
        CAPTURE_URI, WINDOW, s3=s3, baseline=baseline_from_json([[0.9, 0.1]], ("bicycle", "motorcycle"))
    )
    assert analysis.statistics.records == 0 and analysis.statistics.files == 0
    assert analysis.ok and analysis.drift is not None and analysis.drift.class_share_psi is None


def many_lines(rng: np.random.Generator, hour: str, n: int) -> list[str]:
    top = rng.uniform(0.5, 1, n)
    return [
        capture_line([float(t), float(1 - t)], f"2026-11-23T{hour}:{i % 60:02d}:{i // 60 % 60:02d}Z")
        for i, t in enumerate(top)
    ]


@pytest.fixture
def day_folder(tmp_path: Path) -> Path:
    rng = np.random.default_rng(5)
    for hour in ("08", "09", "10", "11"):
        write_lines(tmp_path / partition_key(f"2026-11-23T{hour}:00:00Z"), many_lines(rng, hour, 300))
    write_lines(
        tmp_path / partition_key("2026-11-23T10:00:00Z", "bad.jsonl"),
        ["garbage", capture_line([0.5, 0.4], "2026-11-23T10:00:00Z")],
    )
    return tmp_path


def figures(analysis) -> tuple:
    s = analysis.statistics
    return (
        s.records,
        s.class_counts.tolist(),
        s.low_confidence,
        s.malformed,
        s.histograms.tobytes(),
        s.sample_times_us.tolist(),
        [(h.hour_us, h.records) for h in s.hourly],
    )


@pytest.mark.parametrize("start_method", ["fork", "spawn"])
def test_worker_processes_give_the_same_result_as_one_process(day_folder: Path, monkeypatch, start_method: str):
    window = Window("2026-11-23T09:00:00Z", "2026-11-23T11:00:00Z")
    inline = analyze_capture(str(day_folder), window, workers=1)
    monkeypatch.setattr(reader, "PARALLEL_MIN_BYTES", 0)
    if start_method == "spawn":  # what a process with threads (an Airflow task) gets
        monkeypatch.setattr(threading, "active_count", lambda: 2)
    pooled = analyze_capture(str(day_folder), window, workers=2)
    assert figures(pooled) == figures(inline)
    assert inline.statistics.records == 600 and inline.statistics.malformed == {
        "invalid_json": 1,
        "not_probabilities": 1,
    }


def test_s3_through_worker_processes(s3, monkeypatch):
    rng = np.random.default_rng(6)
    for name in ("a", "b", "c"):
        put_lines(
            s3, f"{CAPTURE_PREFIX}/{partition_key('2026-11-23T10:00:00Z', f'{name}.jsonl')}", many_lines(rng, "10", 200)
        )
    inline = analyze_capture(CAPTURE_URI, WINDOW, s3=s3, workers=1)
    monkeypatch.setattr(reader, "PARALLEL_MIN_BYTES", 0)
    pooled = analyze_capture(CAPTURE_URI, WINDOW, s3=s3, workers=2)
    assert figures(pooled) == figures(inline) and inline.statistics.records == 600


def test_local_folder_without_window_reads_everything(day_folder: Path):
    analysis = analyze_capture(str(day_folder), None, thresholds=Thresholds(confidence_threshold=0.75))
    assert analysis.statistics.records == 1200
    assert analysis.window.to_dict() == {"start": "2026-11-23T08:00:00Z", "end": "2026-11-23T12:00:00Z"}
    assert analysis.statistics.low_confidence_rate == pytest.approx(0.5, abs=0.05)


def test_a_process_that_cannot_have_children_decodes_in_process(day_folder: Path, monkeypatch, caplog):
    def refuse(*args, **kwargs):
        raise AssertionError("daemonic processes are not allowed to have children")

    monkeypatch.setattr(reader, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(reader, "ProcessPoolExecutor", refuse)
    analysis = analyze_capture(str(day_folder), None, workers=2)
    assert analysis.statistics.records == 1200
    assert "decoding in this process" in caplog.text


def test_a_file_that_vanishes_after_listing_is_a_clear_error(day_folder: Path, monkeypatch):
    from scones.monitoring import sources
    from scones.monitoring.errors import CaptureSourceError

    listed = sources.local_capture_files(day_folder)
    monkeypatch.setattr(
        reader, "local_capture_files", lambda *a: [*listed, sources.CaptureObject(str(day_folder / "gone.jsonl"), 1)]
    )
    with pytest.raises(CaptureSourceError, match="cannot read capture file .*gone.jsonl"):
        analyze_capture(str(day_folder), None, workers=1)
