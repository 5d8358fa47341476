"""Data capture in SageMaker's format: sampled requests and responses as JSON lines in S3.

Keys, as SageMaker writes them (the hour is the inference's, UTC; the file name is the
minute-second-millisecond of its first record plus a UUID)::

    <DestinationS3Uri>/<endpoint>/<variant>/yyyy/mm/dd/hh/mm-ss-mmm-<uuid>.jsonl

One record per line, compact JSON::

    {"captureData": {"endpointInput": {"observedContentType": "image/png", "mode": "INPUT",
                                       "data": "iVBORw0...", "encoding": "BASE64"},
                     "endpointOutput": {"observedContentType": "application/json", "mode": "OUTPUT",
                                        "data": "[0.93, 0.07]", "encoding": "JSON"}},
     "eventMetadata": {"eventId": "<uuid>", "inferenceTime": "2026-11-23T10:15:02Z"},
     "eventVersion": "0"}

``encoding`` is ``JSON`` / ``CSV`` when the content type is listed in the config's
``CaptureContentTypeHeader`` (``data`` is then the text itself), else ``BASE64``.
``eventMetadata.inferenceId`` is added when the request carried one.

Records are buffered and written by a background thread every ``FLUSH_SECONDS`` (or as
soon as ``FLUSH_RECORDS`` are waiting), and at exit. To write everything now, e.g. before
a test or a monitoring run reads S3::

    requests.post(f"{endpoint_url}/moto-api/sagemaker/capture/flush").json()
    # {"files": 3, "records": 120, "sampled": 240, "captured": 240}

``sampled`` counts requests chosen by SamplingPercentage since start, ``captured`` the
records written; after a flush they are equal: nothing is dropped.
"""

from __future__ import annotations

import base64
import json
import logging
import random
import threading
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from scones.emulator.sagemaker.storage import ObjectStore, S3Uri

log = logging.getLogger(__name__)

FLUSH_SECONDS = 2.0
FLUSH_RECORDS = 500


@dataclass(frozen=True)
class CaptureSettings:
    """An endpoint config's DataCaptureConfig, validated."""

    destination: S3Uri
    sampling_percentage: int
    capture_input: bool
    capture_output: bool
    csv_types: frozenset[str]
    json_types: frozenset[str]
    kms_key_id: str | None = None

    @classmethod
    def from_config(cls, config: dict[str, Any] | None) -> CaptureSettings | None:
        """``None`` when capture is off; ValueError naming the bad field otherwise."""
        if not config or not config.get("EnableCapture", True):
            return None
        percentage = int(config.get("InitialSamplingPercentage", 0))
        if not 0 <= percentage <= 100:
            raise ValueError(f"DataCaptureConfig.InitialSamplingPercentage is {percentage}; it must be 0..100")
        modes = {option.get("CaptureMode") for option in config.get("CaptureOptions") or []}
        if not modes or not modes <= {"Input", "Output", "InputAndOutput"}:
            raise ValueError(
                f"DataCaptureConfig.CaptureOptions must name Input and/or Output, got {sorted(map(str, modes))}"
            )
        headers = config.get("CaptureContentTypeHeader") or {}
        return cls(
            destination=S3Uri.parse(config.get("DestinationS3Uri", "")),
            sampling_percentage=percentage,
            capture_input=bool(modes & {"Input", "InputAndOutput"}),
            capture_output=bool(modes & {"Output", "InputAndOutput"}),
            csv_types=frozenset(headers.get("CsvContentTypes") or []),
            json_types=frozenset(headers.get("JsonContentTypes") or []),
            kms_key_id=config.get("KmsKeyId"),
        )

    def describe(self) -> dict[str, Any]:
        """DescribeEndpoint's DataCaptureConfig (a DataCaptureConfigSummary)."""
        summary: dict[str, Any] = {
            "EnableCapture": True,
            "CaptureStatus": "Started",
            "CurrentSamplingPercentage": self.sampling_percentage,
            "DestinationS3Uri": str(self.destination),
        }
        if self.kms_key_id:
            summary["KmsKeyId"] = self.kms_key_id
        return summary

    def encode(self, content_type: str, data: bytes) -> tuple[str, str]:
        """``(data, encoding)`` for a captured payload."""
        media_type = content_type.split(";", 1)[0].strip()
        for types, encoding in ((self.json_types, "JSON"), (self.csv_types, "CSV")):
            if content_type in types or media_type in types:
                try:
                    return data.decode("utf-8"), encoding
                except UnicodeDecodeError:
                    break  # listed as text but is not: fall back to base64 rather than corrupt it
        return base64.b64encode(data).decode("ascii"), "BASE64"


def capture_record(
    settings: CaptureSettings,
    request_type: str,
    request: bytes,
    response_type: str,
    response: bytes,
    at: datetime,
    inference_id: str | None = None,
) -> str:
    """One JSON line of a capture file."""
    data: dict[str, Any] = {}
    if settings.capture_input:
        payload, encoding = settings.encode(request_type, request)
        data["endpointInput"] = {
            "observedContentType": request_type,
            "mode": "INPUT",
            "data": payload,
            "encoding": encoding,
        }
    if settings.capture_output:
        payload, encoding = settings.encode(response_type, response)
        data["endpointOutput"] = {
            "observedContentType": response_type,
            "mode": "OUTPUT",
            "data": payload,
            "encoding": encoding,
        }
    metadata = {"eventId": str(uuid.uuid4()), "inferenceTime": at.strftime("%Y-%m-%dT%H:%M:%SZ")}
    if inference_id:
        metadata["inferenceId"] = inference_id
    return json.dumps({"captureData": data, "eventMetadata": metadata, "eventVersion": "0"}, separators=(",", ":"))


@dataclass(frozen=True)
class _Partition:
    """Records that go to the same folder: one destination, endpoint, variant and hour."""

    account_id: str
    folder: S3Uri


class CaptureWriter:
    """Buffers capture records per hourly folder and writes them as ``.jsonl`` objects."""

    def __init__(self, flush_seconds: float = FLUSH_SECONDS, flush_records: int = FLUSH_RECORDS) -> None:
        self.flush_seconds, self.flush_records = flush_seconds, flush_records
        self._lock = threading.Lock()  # guards the buffers and counters
        self._write_lock = threading.Lock()  # one flush at a time, so files are never split oddly
        self._buffers: dict[_Partition, list[tuple[datetime, str]]] = defaultdict(list)
        self._waiting = 0
        self.sampled = 0
        self.captured = 0
        self._random = random.Random()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> CaptureWriter:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="data-capture-writer", daemon=True)
            self._thread.start()
        return self

    def sample(self, settings: CaptureSettings | None) -> bool:
        """Whether this request is captured, counted in ``sampled`` if so."""
        if settings is None or settings.sampling_percentage <= 0:
            return False
        chosen = self._random.random() * 100 < settings.sampling_percentage
        if chosen:
            with self._lock:
                self.sampled += 1
        return chosen

    def add(
        self, account_id: str, settings: CaptureSettings, endpoint: str, variant: str, at: datetime, line: str
    ) -> None:
        folder = settings.destination.child(f"{endpoint}/{variant}/{at:%Y/%m/%d/%H}/")
        with self._lock:
            self._buffers[_Partition(account_id, folder)].append((at, line))
            self._waiting += 1
            full = self._waiting >= self.flush_records
        if full:
            self._wake.set()

    def flush(self) -> dict[str, int]:
        """Write every buffered record now; returns counts of files and records written."""
        with self._write_lock:
            with self._lock:
                buffers, self._buffers = self._buffers, defaultdict(list)
                self._waiting = 0
            files = records = 0
            for partition, lines in buffers.items():
                first = min(at for at, _ in lines)
                name = f"{first:%M-%S}-{first.microsecond // 1000:03d}-{uuid.uuid4()}.jsonl"
                body = "\n".join(line for _, line in sorted(lines, key=lambda item: item[0])) + "\n"
                try:
                    ObjectStore(partition.account_id).put(partition.folder.child(name), body.encode())
                except Exception:  # a deleted bucket must not stop the other folders' records
                    log.exception("cannot write %d capture records to %s", len(lines), partition.folder)
                    continue
                files += 1
                records += len(lines)
            with self._lock:
                self.captured += records
                return {"files": files, "records": records, "sampled": self.sampled, "captured": self.captured}

    def _loop(self) -> None:
        while True:
            self._wake.wait(self.flush_seconds)
            self._wake.clear()
            try:
                self.flush()
            except Exception:  # keep the writer alive whatever one flush met
                log.exception("data capture flush failed")


def utc_now() -> datetime:
    return datetime.now(UTC)


#: The emulator process's one writer (started by ``install()``).
WRITER = CaptureWriter()
