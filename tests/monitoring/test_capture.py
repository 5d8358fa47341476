from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
import pytest

from scones.monitoring.capture_decode import MALFORMED_REASONS, read_capture_file
from scones.monitoring.window import Window

from .conftest import capture_line, write_lines

T0 = "2026-11-23T10:15:02Z"
WINDOW = Window("2026-11-23T10:00:00Z", "2026-11-23T11:00:00Z")


def decode(lines: list[str], n_classes: int = 2, **kw):
    """The lines decoded as the monitor decodes a capture file."""
    with tempfile.TemporaryDirectory() as folder:
        return read_capture_file(write_lines(Path(folder) / "capture.jsonl", lines), n_classes, **kw)


@pytest.mark.parametrize("encoding", ["JSON", "BASE64"])
def test_both_output_encodings_decode_to_the_same_vectors(encoding: str):
    decoded = decode(
        [capture_line([0.97, 0.03], T0, encoding=encoding), capture_line([0.2, 0.8], T0, encoding=encoding)]
    )
    assert decoded.probabilities.tolist() == [[0.97, 0.03], [0.2, 0.8]]
    assert decoded.times_us.tolist() == [int(WINDOW.start.timestamp() + 15 * 60 + 2) * 1_000_000] * 2
    assert not decoded.malformed


def test_mixed_encodings_and_whitespace_in_the_payload():
    lines = [
        capture_line("[0.97, 0.03]", T0),
        capture_line([0.1, 0.9], T0, encoding="BASE64"),
        capture_line(" [ 0.5 , 0.5 ] ", T0),
    ]
    assert decode(lines).probabilities.tolist() == [[0.97, 0.03], [0.1, 0.9], [0.5, 0.5]]


def test_csv_output_encoding_is_read_too():
    line = capture_line("0.25,0.75", T0).replace('"encoding":"JSON"', '"encoding":"CSV"')
    assert decode([line]).probabilities.tolist() == [[0.25, 0.75]]


def test_fractional_seconds_and_offsets_are_exact():
    decoded = decode(
        [capture_line([1, 0], "2026-11-23T10:00:00.123456Z"), capture_line([1, 0], "2026-11-23T12:00:00+02:00")]
    )
    start_us = int(WINDOW.start.timestamp()) * 1_000_000
    assert decoded.times_us.tolist() == [start_us + 123456, start_us]


BAD_LINES = {
    "invalid_json": [
        '{"captureData": {"endpointOutput": ',  # truncated
        "not json at all",
    ],
    "invalid_record": [
        "[1, 2]",  # JSON, not an object
        json.dumps({"captureData": {}}),  # no endpointOutput, no eventMetadata
        capture_line([0.9, 0.1], T0).replace('"data":"[0.9, 0.1]"', '"data":5'),  # wrong type
        capture_line([0.9, 0.1], "2026-11-23T10:15:02"),  # no offset: ambiguous time
        capture_line([0.9, 0.1], "yesterday"),
    ],
    "invalid_output": [
        capture_line("[0.9, 0.1", T0),
        capture_line("[0.9, 0.1]", T0).replace(
            '"data":"[0.9, 0.1]","encoding":"JSON"', '"data":"!!no","encoding":"BASE64"'
        ),
        capture_line('{"predictions": [0.9, 0.1]}', T0),
        capture_line("[0.9, 0.1]", T0).replace('"encoding":"JSON"}}', '"encoding":"XML"}}'),
        capture_line('["0.9", "0.1"]', T0),
    ],
    "wrong_class_count": [capture_line([0.2, 0.3, 0.5], T0), capture_line([1.0], T0)],
    "not_probabilities": [capture_line([1.5, -0.5], T0), capture_line([0.5, 0.1], T0)],
}


@pytest.mark.parametrize("reason", sorted(BAD_LINES))
def test_each_kind_of_malformed_line_is_counted_not_raised(reason: str):
    good = [capture_line([0.9, 0.1], T0), capture_line([0.3, 0.7], T0)]
    bad = BAD_LINES[reason]
    decoded = decode([good[0], *bad, good[1]])
    assert dict(decoded.malformed) == {reason: len(bad)}
    assert decoded.probabilities.tolist() == [[0.9, 0.1], [0.3, 0.7]], "good records around bad ones are kept"
    assert decoded.examples and all(reason in e for e in decoded.examples)
    assert reason in MALFORMED_REASONS


def test_bad_line_examples_name_the_byte_offset_of_the_line():
    good = capture_line([0.9, 0.1], T0)
    decoded = decode([good, "garbage"], source="hour10.jsonl")
    assert decoded.examples[0].startswith(f"hour10.jsonl byte {len(good) + 1}: invalid_json")


def test_fast_path_guard_rejects_payloads_that_only_look_right_when_joined():
    # Joined with a comma these two read as [[0.1],[0.2,0.3]]: two valid-looking vectors.
    # Each is malformed on its own, and the monitor must say so.
    decoded = decode([capture_line("[0.1],[0.9", T0), capture_line("0.3]", T0)], n_classes=1)
    assert len(decoded) == 0
    assert sum(decoded.malformed.values()) == 2


def test_blank_lines_and_a_missing_final_newline_are_fine(tmp_path: Path):
    path = tmp_path / "c.jsonl"
    path.write_text(f"{capture_line([0.9, 0.1], T0)}\n\n  \n{capture_line([0.4, 0.6], T0)}")
    decoded = read_capture_file(path, 2)
    assert len(decoded) == 2 and not decoded.malformed


def test_window_is_half_open_at_the_hour_boundary():
    lines = [
        capture_line([0.9, 0.1], t)
        for t in ("2026-11-23T09:59:59Z", "2026-11-23T10:00:00Z", "2026-11-23T10:59:59.999999Z", "2026-11-23T11:00:00Z")
    ]
    decoded = decode(lines, start_us=WINDOW.start_us, end_us=WINDOW.end_us)
    assert len(decoded) == 2
    assert decoded.out_of_window == 2
    assert decoded.times_us.tolist() == [WINDOW.start_us, WINDOW.end_us - 1]


def test_out_of_window_bad_outputs_are_not_malformed():
    decoded = decode([capture_line("[oops", "2026-11-23T09:00:00Z")], start_us=WINDOW.start_us, end_us=WINDOW.end_us)
    assert decoded.out_of_window == 1 and not decoded.malformed


@pytest.mark.parametrize("chunk_bytes", [1, 300, 1 << 20])
def test_chunking_never_splits_a_line_and_keeps_every_count(tmp_path: Path, chunk_bytes: int):
    rng = np.random.default_rng(3)
    p = rng.random(200)
    lines = [capture_line([float(a), float(1 - a)], T0) for a in p]
    lines[57] = "garbage"
    lines[150] = capture_line([0.2, 0.3, 0.5], T0)
    decoded = read_capture_file(write_lines(tmp_path / "c.jsonl", lines), 2, chunk_bytes=chunk_bytes)
    assert len(decoded) == 198
    assert dict(decoded.malformed) == {"invalid_json": 1, "wrong_class_count": 1}
    expected = np.delete(p, [57, 150])
    np.testing.assert_allclose(decoded.probabilities[:, 0], expected)
    assert decoded.bytes_read == (tmp_path / "c.jsonl").stat().st_size


def test_an_empty_file_is_an_empty_result(tmp_path: Path):
    decoded = read_capture_file(write_lines(tmp_path / "empty.jsonl", []), 2)
    assert len(decoded) == 0 and decoded.probabilities.shape == (0, 2) and not decoded.malformed
