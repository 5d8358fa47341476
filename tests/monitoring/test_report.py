from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from scones.monitoring.analyze import analyze_capture
from scones.monitoring.drift import baseline_from_json
from scones.monitoring.plots import PLOT_FILES
from scones.monitoring.report import build_report, format_summary, write_report
from scones.monitoring.sinks import CallableSink, LocalSink, S3Sink, list_report_days, read_report, report_prefix
from scones.monitoring.window import Window

from .conftest import TEST_BUCKET, capture_line, partition_key, write_lines

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
WINDOW = Window.for_day("2026-11-23")
CLASSES = ("bicycle", "motorcycle")


@pytest.fixture
def analysis(tmp_path: Path):
    lines = [
        capture_line([0.99, 0.01], "2026-11-23T10:00:00Z"),
        capture_line([0.40, 0.60], "2026-11-23T10:20:00Z"),
        capture_line([0.05, 0.95], "2026-11-23T13:00:00Z"),
        "oops",
    ]
    write_lines(tmp_path / "capture" / partition_key("2026-11-23T10:00:00Z"), lines)
    baseline = baseline_from_json([[0.99, 0.01], [0.01, 0.99]] * 10, CLASSES, source="validation.json")
    return analyze_capture(str(tmp_path / "capture"), WINDOW, baseline=baseline, endpoint="scones-endpoint")


@pytest.fixture
def empty_analysis(tmp_path: Path):
    (tmp_path / "nothing").mkdir()
    return analyze_capture(str(tmp_path / "nothing"), WINDOW)


def test_report_json_fields(analysis):
    report = build_report(analysis)
    assert report["records"] == 3 and report["malformed"] == 1 and report["malformed_by_reason"] == {"invalid_json": 1}
    assert report["low_confidence_rate"] == pytest.approx(1 / 3, abs=1e-6)
    assert report["class_share"] == {
        "bicycle": pytest.approx(1 / 3, abs=1e-6),
        "motorcycle": pytest.approx(2 / 3, abs=1e-6),
    }
    assert set(report["confidence"]["quantiles"]) == {"p01", "p05", "p10", "p25", "p50", "p75", "p90", "p95", "p99"}
    assert report["confidence"]["threshold"] == 0.93
    assert report["window"] == {"start": "2026-11-23T00:00:00Z", "end": "2026-11-24T00:00:00Z"}
    assert len(report["hourly"]) == 24 and report["hourly"][10] == {
        "hour": "2026-11-23T10:00:00Z",
        "records": 2,
        "low_confidence_rate": 0.5,
    }
    assert report["hourly"][0]["records"] == 0 and report["hourly"][0]["low_confidence_rate"] is None
    assert report["drift"]["baseline"]["source"] == "validation.json" and report["drift"]["class_share_psi"] is not None
    assert not report["drift"]["evaluated"], "3 records: drift reported, not checked"
    assert [v["check"] for v in report["violations"]] == ["low_confidence_rate", "malformed_rate"]
    assert report["status"] == "violations"
    json.dumps(report, allow_nan=False)  # strictly JSON: no NaN for the UI's parser


def test_report_written_last_and_every_file_through_a_plain_function(analysis):
    written: list[tuple[str, bytes, str]] = []
    locations = write_report(analysis, CallableSink(lambda name, body, kind: written.append((name, body, kind))))
    names = [name for name, _, _ in written]
    assert names[-1] == "report.json", "the report is published last"
    assert set(names) == {*PLOT_FILES, "statistics.json", "constraint_violations.json", "report.html", "report.json"}
    assert list(locations) == names
    files = {name: (body, kind) for name, body, kind in written}
    for plot in PLOT_FILES:
        assert files[plot][0].startswith(PNG_SIGNATURE) and files[plot][1] == "image/png"
    html = files["report.html"][0].decode()
    assert set(re.findall(r'<img src="([^"]+)"', html)) == set(PLOT_FILES), "relative links to the plots"
    assert "low_confidence_rate" in html and "http" not in html, "self-contained"
    violations = json.loads(files["constraint_violations.json"][0])["violations"]
    assert {v["constraint_check_type"] for v in violations} == {"low_confidence_check", "completeness_check"}
    statistics = json.loads(files["statistics.json"][0])
    assert statistics["dataset"]["item_count"] == 3 and statistics["window"]["start"] == "2026-11-23T00:00:00Z"


def test_local_sink_writes_the_files(analysis, tmp_path: Path):
    out = tmp_path / "out"
    write_report(analysis, LocalSink(out))
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [*PLOT_FILES, "statistics.json", "constraint_violations.json", "report.html", "report.json"]
    )
    assert json.loads((out / "report.json").read_text())["records"] == 3
    assert (out / "report.json").stat().st_mode & 0o044, "readable by others, like any report"


def test_an_empty_window_still_gets_every_plot_and_page(empty_analysis, tmp_path: Path):
    write_report(empty_analysis, LocalSink(tmp_path / "out"))
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["records"] == 0 and report["low_confidence_rate"] is None and report["violations"] == []
    assert report["confidence"]["quantiles"] == {} and report["status"] == "ok"
    assert all((tmp_path / "out" / name).read_bytes().startswith(PNG_SIGNATURE) for name in PLOT_FILES)
    assert "OK:" in format_summary(report)


def test_s3_sink_layout_and_idempotent_rerun(analysis, s3):
    prefix = report_prefix("scones-endpoint", analysis.window.label)
    assert prefix == "monitoring/scones-endpoint/2026-11-23/"
    first = write_report(analysis, S3Sink(s3, TEST_BUCKET, prefix))
    assert first["report.json"] == f"s3://{TEST_BUCKET}/{prefix}report.json"
    keys = lambda: sorted(o["Key"] for o in s3.list_objects_v2(Bucket=TEST_BUCKET, Prefix="monitoring/")["Contents"])  # noqa: E731 - re-evaluated after each write
    before = keys()
    assert len(before) == 7 and all(k.startswith(prefix) for k in before)
    write_report(analysis, S3Sink(s3, TEST_BUCKET, prefix))
    assert keys() == before, "a rerun overwrites the same keys"
    head = s3.head_object(Bucket=TEST_BUCKET, Key=f"{prefix}confidence_over_time.png")
    assert head["ContentType"] == "image/png"
    s3.put_object(Bucket=TEST_BUCKET, Key="monitoring/scones-endpoint/2026-11-24\n/report.json", Body=b"{}")
    assert list_report_days(s3, TEST_BUCKET, "scones-endpoint") == ["2026-11-23"]
    assert read_report(s3, TEST_BUCKET, "scones-endpoint", "2026-11-23")["records"] == 3
    assert read_report(s3, TEST_BUCKET, "scones-endpoint", "2026-11-24") is None


def test_summary_is_readable(analysis):
    text = format_summary(build_report(analysis))
    assert text.startswith("VIOLATIONS: scones-endpoint")
    assert "inferences: 3" in text and "below confidence 0.93: 1 (33.33%)" in text
    assert "! low_confidence_rate:" in text
