"""Decode SageMaker Data Capture JSON lines into columns: fast, strict, never crashing.

One line of a capture file, as SageMaker writes it (``encoding`` is ``JSON`` when the content
type is listed in the endpoint's ``CaptureContentTypeHeader.JsonContentTypes``, else
``BASE64``; ``CSV`` for CSV types)::

    {"captureData": {
        "endpointInput": {"observedContentType": "image/png", "mode": "INPUT",
                          "data": "iVBORw0KGgo...", "encoding": "BASE64"},
        "endpointOutput": {"observedContentType": "application/json", "mode": "OUTPUT",
                           "data": "[0.97, 0.03]", "encoding": "JSON"}},
     "eventMetadata": {"eventId": "...", "inferenceTime": "2026-11-23T10:15:02Z"},
     "eventVersion": "0"}

Speed comes from an explicit schema (msgspec Structs) that names only what the monitor uses:
the decoder skips the ~3 KB base64 image without materialising it, and a whole chunk of lines
decodes in one call. A chunk that fails is decoded again line by line with the same schema, so
a malformed line costs one chunk's retry, not a slow path for the file. polars' NDJSON reader,
tried first, needed both cores for what this does on one, fails a whole file on one bad line,
and silently coerces wrong types. Files are decoded from an mmap (no copy), in worker
processes (see :mod:`scones.monitoring.reader`).

A malformed line or record is counted under one of :data:`MALFORMED_REASONS`, with a few
examples (file and byte offset), and never raises.
"""

from __future__ import annotations

import binascii
import mmap
import os
from collections import Counter
from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path

import msgspec
import numpy as np

from scones.monitoring.isotime import parse_times

#: Why a line or record was not counted as an inference.
MALFORMED_REASONS = (
    "invalid_json",  # the line is not JSON (truncated, garbage)
    "invalid_record",  # JSON, but not a capture record: a field missing, wrong type, bad time
    "invalid_output",  # endpointOutput.data is not (base64 of) a JSON list of numbers
    "wrong_class_count",  # a probability vector whose length is not the number of classes
    "not_probabilities",  # values outside [0, 1], or not summing to 1
)
CHUNK_BYTES = 16 << 20  # large enough to amortise per-call overhead, small enough to stay flat
MAX_EXAMPLES = 5  # per file: enough to diagnose, bounded however broken a file is
SUM_TOLERANCE = 0.01  # softmax outputs rounded to a few decimals still sum to 1 within this


class _Output(msgspec.Struct, gc=False):
    data: str
    encoding: str


class _CaptureData(msgspec.Struct, gc=False):
    endpointOutput: _Output  # endpointInput is deliberately absent: skipped, never decoded


class _Metadata(msgspec.Struct, gc=False):
    inferenceTime: str  # parsed per chunk by isotime.parse_times, ~10x cheaper than datetimes
    eventId: str = ""  # names a bad record in the report's examples


class _Record(msgspec.Struct, gc=False):
    captureData: _CaptureData
    eventMetadata: _Metadata


_RECORD = msgspec.json.Decoder(_Record)
_VECTOR = msgspec.json.Decoder(list[float])
_OUTPUT = attrgetter("captureData.endpointOutput")
_ENCODING = attrgetter("encoding")
_DATA = attrgetter("data")
_TIME = attrgetter("eventMetadata.inferenceTime")


@dataclass
class Decoded:
    """The inferences of one file (or buffer) that fall in the window, as columns."""

    times_us: np.ndarray  # int64, microseconds since the epoch (UTC)
    probabilities: np.ndarray  # float64, (n, number of classes)
    malformed: Counter[str] = field(default_factory=Counter)
    out_of_window: int = 0  # well-formed records whose time is outside [start, end)
    examples: list[str] = field(default_factory=list)
    bytes_read: int = 0
    files: int = 0

    def __len__(self) -> int:
        return len(self.times_us)

    @classmethod
    def empty(cls, n_classes: int) -> Decoded:
        return cls(np.empty(0, np.int64), np.empty((0, n_classes), np.float64))


class _Collector:
    """Accumulates chunk results for one source, then concatenates them once."""

    def __init__(self, source: str, n_classes: int, start_us: int | None, end_us: int | None) -> None:
        self.source, self.n_classes = source, n_classes
        self.start_us, self.end_us = start_us, end_us
        self.times: list[np.ndarray] = []
        self.probs: list[np.ndarray] = []
        self.malformed: Counter[str] = Counter()
        self.out_of_window = 0
        self.examples: list[str] = []
        self.bytes_read = 0

    def bad(self, reason: str, where: str, detail: str, count: int = 1) -> None:
        self.malformed[reason] += count
        if len(self.examples) < MAX_EXAMPLES:
            self.examples.append(f"{self.source} {where}: {reason}: {detail[:200]}")

    def add_chunk(self, buf: bytes | memoryview, offset: int) -> None:
        """Decode one buffer of whole lines starting at byte ``offset`` of the source."""
        self.bytes_read += len(buf)
        try:
            records = _RECORD.decode_lines(buf)
            offsets = None
        except (msgspec.DecodeError, msgspec.ValidationError):
            records, offsets = self._line_by_line(buf, offset)
        if not records:
            return
        times, keep = parse_times(list(map(_TIME, records)))
        if not keep.all():
            # SageMaker always writes UTC with "Z"; a time without an offset is ambiguous.
            bad = np.flatnonzero(~keep)
            first = records[bad[0]].eventMetadata.inferenceTime
            detail = f"inferenceTime {first!r} is not ISO 8601 with an offset ({len(bad)} such)"
            self.bad("invalid_record", self._where(records, offsets, offset, int(bad[0])), detail, count=len(bad))
        valid_times = keep.copy()
        if self.start_us is not None:
            keep &= times >= self.start_us
        if self.end_us is not None:
            keep &= times < self.end_us
        self.out_of_window += int(np.count_nonzero(valid_times) - np.count_nonzero(keep))
        if not keep.all():
            index = np.flatnonzero(keep)
            records = [records[i] for i in index]
            offsets = None if offsets is None else [offsets[i] for i in index]
            times = times[index]
        self._add_outputs(records, times, offsets, offset)

    def _line_by_line(self, buf: bytes | memoryview, offset: int) -> tuple[list[_Record], list[int]]:
        records, offsets = [], []
        position = offset
        for line in bytes(buf).split(b"\n"):
            here, position = position, position + len(line) + 1
            if not line.strip():
                continue
            try:
                records.append(_RECORD.decode(line))
                offsets.append(here)
            except msgspec.ValidationError as exc:
                self.bad("invalid_record", f"byte {here}", str(exc))
            except msgspec.DecodeError as exc:
                self.bad("invalid_json", f"byte {here}", str(exc))
        return records, offsets

    def _add_outputs(self, records: list[_Record], times: np.ndarray, offsets: list[int] | None, offset: int) -> None:
        if not records:
            return
        k = self.n_classes
        probs = _vectors_fast(records, k)
        if probs is None:  # something unusual in this chunk: decode record by record
            vectors: list[list[float]] = []
            kept: list[int] = []
            for i, record in enumerate(records):
                output = record.captureData.endpointOutput
                try:
                    vector = _decode_output(output.data, output.encoding)
                except ValueError as exc:
                    self.bad("invalid_output", self._where(records, offsets, offset, i), str(exc))
                    continue
                if len(vector) != k:
                    detail = f"{len(vector)} probabilities for {k} classes"
                    self.bad("wrong_class_count", self._where(records, offsets, offset, i), detail)
                    continue
                vectors.append(vector)
                kept.append(i)
            probs = np.array(vectors, dtype=np.float64).reshape(-1, k)
            if len(kept) < len(records):
                times = times[kept]
        else:
            kept = range(len(records))
        with np.errstate(invalid="ignore"):  # NaN compares False: counted below, not warned
            in_range = np.all((probs >= 0.0) & (probs <= 1.0), axis=1)
            valid = in_range & (np.abs(probs.sum(axis=1) - 1.0) <= SUM_TOLERANCE)
        if not valid.all():
            bad_rows = np.flatnonzero(~valid)
            first = kept[bad_rows[0]]
            detail = f"{len(bad_rows)} such, e.g. {probs[bad_rows[0]].tolist()}"
            self.bad("not_probabilities", self._where(records, offsets, offset, first), detail, count=len(bad_rows))
            probs, times = probs[valid], times[valid]
        self.times.append(times)
        self.probs.append(probs)

    @staticmethod
    def _where(records: list[_Record], offsets: list[int] | None, offset: int, i: int) -> str:
        """A line's byte offset when known (line-by-line path), else its eventId."""
        if offsets is not None:
            return f"byte {offsets[i]}"
        return f"eventId {records[i].eventMetadata.eventId or '?'} (chunk at byte {offset})"

    def result(self) -> Decoded:
        if not self.times:
            decoded = Decoded.empty(self.n_classes)
        else:
            decoded = Decoded(np.concatenate(self.times), np.concatenate(self.probs))
        decoded.malformed, decoded.out_of_window = self.malformed, self.out_of_window
        decoded.examples, decoded.bytes_read, decoded.files = self.examples, self.bytes_read, 1
        return decoded


def _vectors_fast(records: list[_Record], k: int) -> np.ndarray | None:
    """All outputs of a chunk as an (n, k) array in a few C calls, or None to go record by record.

    Every payload must be exactly ``[x1,...,xk]``: this is checked on the joined text (each
    piece starts with "[" and ends with "]", holds no other bracket and k-1 commas), so the
    fast path accepts exactly what the per-record path accepts, only faster.
    """
    outputs = list(map(_OUTPUT, records))  # attrgetter + map: the loop runs in C
    encodings = set(map(_ENCODING, outputs))
    n = len(outputs)
    if encodings == {"JSON"}:
        texts = list(map(_DATA, outputs))
        joined_text = ",".join(texts)
        if not joined_text.isascii():  # lengths below count characters: equal to bytes only in ASCII
            return None
        joined = joined_text.encode("ascii")
        lengths = np.fromiter(map(len, texts), np.int64, n)
    elif encodings == {"BASE64"}:
        try:
            pieces = [binascii.a2b_base64(o.data, strict_mode=True) for o in outputs]
        except ValueError:
            return None
        joined = b",".join(pieces)
        lengths = np.fromiter(map(len, pieces), np.int64, n)
    else:
        return None
    if joined.count(b"[") != n or joined.count(b"]") != n:
        return None
    if (lengths < 2).any():
        return None
    starts = np.concatenate(([0], np.cumsum(lengths[:-1] + 1)))
    ends = starts + lengths - 1
    text = np.frombuffer(joined, dtype=np.uint8)
    if not ((text[starts] == ord("[")).all() and (text[ends] == ord("]")).all()):
        return None
    commas = np.flatnonzero(text == ord(","))
    piece_of = np.searchsorted(starts, commas, side="right") - 1
    inside = commas < ends[piece_of]  # separators we inserted sit just after a piece's end
    if (np.bincount(piece_of[inside], minlength=n) != k - 1).any():
        return None
    try:
        flat = _VECTOR.decode(b"[" + joined.translate(None, b"[]") + b"]")
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    if len(flat) != n * k:
        return None
    return np.array(flat, dtype=np.float64).reshape(n, k)


def _decode_output(data: str, encoding: str) -> list[float]:
    """The probability vector in ``endpointOutput.data``; ValueError says why not."""
    encoding = encoding.upper()
    if encoding == "JSON":
        payload: str | bytes = data
    elif encoding == "BASE64":
        try:
            payload = binascii.a2b_base64(data, strict_mode=True)
        except ValueError as exc:  # binascii.Error, or non-ASCII text
            raise ValueError(f"endpointOutput.data is not valid base64 ({exc})") from None
    elif encoding == "CSV":
        try:
            return [float(v) for v in data.split(",")]
        except ValueError:
            raise ValueError(f"endpointOutput.data is not CSV numbers: {data[:80]!r}") from None
    else:
        raise ValueError(f"unknown endpointOutput.encoding {encoding!r} (expected JSON, BASE64 or CSV)")
    try:
        return _VECTOR.decode(payload)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise ValueError(f"endpointOutput.data is not a JSON list of numbers ({exc}): {payload[:80]!r}") from None


def read_capture_file(
    path: str | Path,
    n_classes: int,
    *,
    start_us: int | None = None,
    end_us: int | None = None,
    source: str | None = None,
    chunk_bytes: int = CHUNK_BYTES,
) -> Decoded:
    """Decode one capture file, a chunk of whole lines at a time (memory stays flat).

    :param source: how examples name the file (an S3 key for a downloaded object).
    """
    collector = _Collector(source or str(path), n_classes, start_us, end_us)
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size == 0:
            return collector.result()
        # mmap, not read(): decoding straight from the page cache saves copying every byte
        # once more (~15% of the time); pages already decoded are dropped from this process,
        # so its memory stays one chunk however large the file.
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mapped, memoryview(mapped) as view:
            _advise(mapped, "MADV_SEQUENTIAL")
            position = dropped = 0
            while position < size:
                cut = mapped.find(b"\n", min(position + chunk_bytes, size) - 1)
                end = size if cut < 0 else cut + 1  # a missing final newline is fine
                with view[position:end] as chunk:
                    collector.add_chunk(chunk, position)
                keep_from = end // mmap.PAGESIZE * mmap.PAGESIZE  # the next chunk may share this page
                _advise(mapped, "MADV_DONTNEED", dropped, keep_from - dropped)
                dropped, position = keep_from, end
    return collector.result()


def _advise(mapped: mmap.mmap, name: str, start: int = 0, length: int | None = None) -> None:
    option = getattr(mmap, name, None)  # Linux and most Unixes; a no-op elsewhere
    if option is None or length == 0:
        return
    if length is None:
        mapped.madvise(option)
    else:
        mapped.madvise(option, start, length)
