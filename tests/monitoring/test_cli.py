from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from scones.monitoring import cli

from .conftest import capture_line, partition_key, write_lines


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="scones")
    cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


@pytest.fixture
def capture(tmp_path: Path) -> Path:
    folder = tmp_path / "capture"
    write_lines(
        folder / partition_key("2026-11-23T10:00:00Z"),
        [
            capture_line([0.99, 0.01], "2026-11-23T10:00:00Z"),
            capture_line([0.10, 0.90], "2026-11-23T10:05:00Z", encoding="BASE64"),
            capture_line([0.60, 0.40], "2026-11-23T10:10:00Z"),
            "truncated {",
        ],
    )
    write_lines(folder / partition_key("2026-11-24T10:00:00Z"), [capture_line([0.99, 0.01], "2026-11-24T10:00:00Z")])
    return folder


def test_analyze_a_local_folder_end_to_end(capture: Path, tmp_path: Path, capsys):
    out = tmp_path / "report"
    code = run(
        [
            "monitor",
            "analyze",
            "--input",
            str(capture),
            "--out",
            str(out),
            "--start",
            "2026-11-23T00:00:00Z",
            "--end",
            "2026-11-24T00:00:00Z",
            "--threshold",
            "0.8",
        ]
    )
    assert code == 0
    report = json.loads((out / "report.json").read_text())
    assert report["records"] == 3 and report["malformed"] == 1
    assert report["low_confidence_rate"] == pytest.approx(1 / 3, abs=1e-6) and report["confidence"]["threshold"] == 0.8
    assert (out / "report.html").exists() and (out / "confidence_over_time.png").exists()
    printed = capsys.readouterr().out
    assert "inferences: 3" in printed and "malformed records: 1" in printed and str(out) in printed


def test_baseline_classes_and_exit_code_on_violations(capture: Path, tmp_path: Path, capsys):
    baseline = tmp_path / "validation.json"
    baseline.write_text(json.dumps({"probabilities": [[0.99, 0.01]] * 5 + [[0.01, 0.99]] * 5}))
    args = [
        "monitor",
        "analyze",
        "--input",
        str(capture),
        "--out",
        str(tmp_path / "out"),
        "--baseline",
        str(baseline),
        "--classes",
        "bicycle,motorcycle",
        "--start",
        "2026-11-23",
    ]
    assert run(args) == 0, "violations are reported, not an error, by default"
    assert run([*args, "--fail-on-violations"]) == cli.EXIT_VIOLATIONS
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["drift"]["baseline"]["records"] == 10
    assert "low_confidence_rate" in capsys.readouterr().out


def test_no_window_reads_the_whole_folder(capture: Path, tmp_path: Path):
    assert run(["monitor", "analyze", "--input", str(capture), "--out", str(tmp_path / "all")]) == 0
    assert json.loads((tmp_path / "all" / "report.json").read_text())["records"] == 4


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--input", "/no/such/folder"], "does not exist"),
        (["--start", "yesterday"], "ISO 8601"),
        (["--classes", "bicycle,motorcycle,bus"], "wrong_class_count"),
        (["--baseline", "/no/baseline.json"], "cannot read baseline"),
    ],
)
def test_bad_arguments_fail_with_a_clear_message(capture: Path, tmp_path: Path, capsys, extra, message):
    argv = ["monitor", "analyze", "--input", str(capture), "--out", str(tmp_path / "o"), *extra]
    code = run(argv)
    captured = capsys.readouterr()
    if message == "wrong_class_count":  # not an error: every record is reported malformed
        assert code == 0 and "wrong_class_count" in captured.out
    else:
        assert code == 1 and message in captured.err


def test_registered_in_the_scones_command(capture: Path, tmp_path: Path):
    from scones.cli import main

    assert (
        main(["monitor", "analyze", "--input", str(capture), "--out", str(tmp_path / "m"), "--start", "2026-11-24"])
        == 0
    )
    assert json.loads((tmp_path / "m" / "report.json").read_text())["records"] == 1
