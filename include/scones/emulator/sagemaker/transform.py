"""Batch transform: an image-classification model run over every image of an S3 prefix or manifest.

As SageMaker does it (https://docs.aws.amazon.com/sagemaker/latest/dg/batch-transform.html):

- ``TransformInput.DataSource.S3DataSource``: ``S3Prefix`` (every object whose key starts with
  the URI's key) or ``ManifestFile`` (a JSON list: ``{"prefix": "s3://..."}`` then keys relative
  to it). Each input object ``<dir>/a/b.png`` gives one output ``<S3OutputPath>/a/b.png.out``,
  ``<dir>`` being the input URI up to its last ``/``.
- ``SplitType``: ``None`` sends each object as one record; ``Line`` splits it at newlines (a PNG
  split so no longer decodes, and the job fails saying so, as the algorithm's container would).
  ``RecordIO`` and ``TFRecord`` are not read by the emulator: the job fails saying so.
- ``BatchStrategy``: ``SingleRecord`` sends one record per request; ``MultiRecord`` packs as many
  records of one object as ``MaxPayloadInMB`` allows into each request (joined by newlines).
- ``MaxPayloadInMB`` (default 6; 0 = no limit): a record larger than it fails the job, as on AWS.
- ``MaxConcurrentTransforms`` x ``InstanceCount`` chunks of objects are transformed at once
  (at most :data:`MAX_WORKERS` across every transform job of the emulator: this machine's cores, up to 8).
- Each request is answered as the algorithm answers InvokeEndpoint: ``application/json`` (the
  default ``Accept``) a JSON list of class probabilities; ``application/jsonlines``
  ``{"prediction": [...]}``. ``AssembleWith: Line`` ends each answer with a newline.

A model that is not image-classification, an input that cannot be read or a record the model
rejects fails the job with a FailureReason that names it. StopTransformJob stops it after the
images in progress (Stopping, then Stopped). Outputs already written stay, as on AWS.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import threading
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from moto.core.utils import utcnow
from moto.sagemaker.models import FakeTransformJob

from scones.emulator.persistence.changes import background_change
from scones.emulator.sagemaker.exceptions import EmulatorSageMakerError, ModelLoadFailed, ValidationError
from scones.emulator.sagemaker.hosting import IMAGE_CONTENT_TYPES, load_model
from scones.emulator.sagemaker.learner import UndecodableImage, decode_image
from scones.emulator.sagemaker.storage import ObjectMissing, ObjectStore, S3Uri
from scones.emulator.sagemaker.training import ALGORITHM, algorithm_of

if TYPE_CHECKING:
    from scones.emulator.sagemaker.learner import ImageClassifier

log = logging.getLogger(__name__)

ACCEPT_TYPES = ("application/json", "application/jsonlines")
DEFAULT_MAX_PAYLOAD_MB = 6
#: Threads, whatever MaxConcurrentTransforms x InstanceCount asks: more than the machine's cores only
#: contend for them (benchmarks/batch_transform.py: 4 threads on 2 busy cores took 12 s for what 1 did in 5).
MAX_WORKERS = max(1, min(8, os.cpu_count() or 1))
#: Every transform job's chunks run here: MAX_WORKERS threads across the emulator, however many jobs
#: run at once; each job keeps at most its own MaxConcurrentTransforms chunks queued, so jobs interleave.
TRANSFORM_POOL = ThreadPoolExecutor(max_workers=MAX_WORKERS, thread_name_prefix="transform")
CHUNK = 64  # images decoded and classified together (one matrix product instead of 64)


class TransformFailed(EmulatorSageMakerError):
    """The transform job cannot succeed; ``str(exc)`` is its FailureReason."""

    def __init__(self, message: str, kind: str = "ClientError") -> None:
        super().__init__(f"{kind}: {message}")


class TransformStopped(EmulatorSageMakerError):
    """StopTransformJob asked the job to stop; it ends after the images in progress."""


class EmulatedTransformJob(FakeTransformJob):
    """A transform job whose status follows a :class:`TransformRun`: InProgress, then Completed, Failed or Stopped."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._lock = threading.Lock()
        self._stop_requested = threading.Event()
        self.transform_job_status = "InProgress"
        self.failure_reason = None  # left out of the response until set, as by SageMaker
        self.transform_end_time = None
        self.transform_start_time = utcnow()

    def request_stop(self) -> None:
        """StopTransformJob: InProgress -> Stopping; the run makes it Stopped."""
        with self._lock:
            if self.transform_job_status != "InProgress":
                raise ValidationError(
                    message=f"The request was rejected because the transform job is in status "
                    f"{self.transform_job_status}."
                )
            self.transform_job_status = "Stopping"
            self._stop_requested.set()

    def stop_requested(self) -> bool:
        return self._stop_requested.is_set()

    def finish(self, status: str, reason: str | None = None) -> None:
        with background_change(), self._lock:  # kept before a client can poll the end (persistence)
            if self._stop_requested.is_set():
                status, reason = "Stopped", None
            self.transform_job_status = status
            self.failure_reason = reason
            self.transform_end_time = self.last_modified_time = utcnow()

    @property
    def response_object(self) -> dict[str, Any]:  # type: ignore[override]
        private = {self.camelCase(name) for name in self.__dict__ if name.startswith("_")}
        with self._lock:
            response = super().response_object
            return copy.deepcopy({k: v for k, v in response.items() if k not in private and v not in (None, "")})


@dataclass(frozen=True)
class InputObject:
    uri: S3Uri
    relative: str  # the output's key below S3OutputPath, without ".out"


@dataclass(frozen=True)
class TransformPlan:
    inputs: tuple[InputObject, ...]
    output: S3Uri
    split_lines: bool
    multi_record: bool
    max_payload_bytes: int  # 0: no limit
    workers: int
    jsonlines: bool
    assemble_lines: bool


class TransformRun:
    """Does the work of one :class:`EmulatedTransformJob` on a background thread."""

    def __init__(self, job: EmulatedTransformJob, model_description: dict[str, Any] | None, account_id: str) -> None:
        self.job = job
        self.model_description = model_description
        self.store = ObjectStore(account_id)

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name=f"transform-{self.job.transform_job_name}", daemon=True)
        thread.start()
        return thread

    def run(self) -> None:
        try:
            plan = self.plan()
            model = self.model()
            count = self.transform(plan, model)
        except TransformStopped:
            self.job.finish("Stopped")
        except TransformFailed as exc:
            log.info("transform job %s failed: %s", self.job.transform_job_name, exc)
            self.job.finish("Failed", str(exc))
        except Exception as exc:
            log.exception("transform job %s crashed", self.job.transform_job_name)
            self.job.finish("Failed", f"AlgorithmError: {type(exc).__name__}: {exc}")
        else:
            log.info("transform job %s: %d objects transformed", self.job.transform_job_name, count)
            self.job.finish("Completed")

    def model(self) -> ImageClassifier:
        description = self.model_description
        if description is None:
            raise TransformFailed(f"Could not find model {self.job.model_name!r}; create it with CreateModel first")
        container = description.get("PrimaryContainer") or next(iter(description.get("Containers") or []), {})
        image = container.get("Image", "")
        if algorithm_of(image) != ALGORITHM:
            raise TransformFailed(
                f"model {self.job.model_name} uses image {image!r}; the local emulator runs batch transform only "
                f"for SageMaker's built-in {ALGORITHM} models (an ECR image whose repository is '{ALGORITHM}')"
            )
        if not container.get("ModelDataUrl"):
            raise TransformFailed(f"model {self.job.model_name} has no ModelDataUrl to load")
        try:
            return load_model(self.store, container["ModelDataUrl"], self.job.model_name)
        except ModelLoadFailed as exc:
            raise TransformFailed(str(exc)) from None

    def plan(self) -> TransformPlan:
        """Check the request against what the emulator runs, and list the input objects."""
        job = self.job
        transform_input = job.transform_input or {}
        source = (transform_input.get("DataSource") or {}).get("S3DataSource") or {}  # type: ignore[union-attr]
        content_type = str(transform_input.get("ContentType") or "application/x-image").split(";")[0].strip().lower()
        if content_type not in IMAGE_CONTENT_TYPES:
            raise TransformFailed(
                f"ContentType {content_type!r} is not an input of the {ALGORITHM} algorithm; "
                f"use one of {', '.join(IMAGE_CONTENT_TYPES)}"
            )
        split_type = transform_input.get("SplitType") or "None"
        if split_type not in ("None", "Line"):
            raise TransformFailed(
                f"SplitType {split_type!r} is not read by the local emulator; use None (one image per object) or Line"
            )
        if (transform_input.get("CompressionType") or "None") != "None":
            raise TransformFailed(
                "CompressionType Gzip is not read by the local emulator; upload the images uncompressed"
            )
        if any(v not in (None, "", "$", "None") for v in (job.data_processing or {}).values()):
            raise TransformFailed(
                "DataProcessing (InputFilter, JoinSource, OutputFilter) applies to JSON and CSV "
                "records; the image-classification input has none: leave it out"
            )
        if job.data_capture_config:
            raise TransformFailed("DataCaptureConfig for batch transform is not supported by the local emulator")
        output = job.transform_output or {}
        accept = str(output.get("Accept") or "application/json").split(";")[0].strip().lower()
        if accept not in ACCEPT_TYPES:
            raise TransformFailed(
                f"Accept {accept!r} is not an output of the {ALGORITHM} algorithm; use one of {', '.join(ACCEPT_TYPES)}"
            )
        try:
            output_uri = S3Uri.parse(str(output.get("S3OutputPath", "")))
        except ValueError as exc:
            raise TransformFailed(f"TransformOutput.S3OutputPath: {exc}") from None
        max_payload_mb = DEFAULT_MAX_PAYLOAD_MB if job.max_payload_in_mb is None else int(job.max_payload_in_mb)
        concurrency = int(job.max_concurrent_transforms or 1) * int(
            (job.transform_resources or {}).get("InstanceCount", 1)
        )
        return TransformPlan(
            inputs=tuple(self._inputs(source)),
            output=output_uri,
            split_lines=split_type == "Line",
            multi_record=(job.batch_strategy or "MultiRecord") == "MultiRecord",
            max_payload_bytes=max_payload_mb * 1024 * 1024,
            workers=max(1, min(concurrency, MAX_WORKERS)),
            jsonlines=accept == "application/jsonlines",
            assemble_lines=(output.get("AssembleWith") or "None") == "Line",
        )

    def _inputs(self, source: dict[str, Any]) -> list[InputObject]:
        data_type = source.get("S3DataType", "S3Prefix")
        try:
            uri = S3Uri.parse(str(source.get("S3Uri", "")))
        except ValueError as exc:
            raise TransformFailed(f"TransformInput S3Uri: {exc}") from None
        try:
            if data_type == "S3Prefix":
                base = uri.key.rsplit("/", 1)[0] + "/" if "/" in uri.key else ""
                inputs = [InputObject(o, o.key[len(base) :]) for o in self.store.list(uri) if not o.key.endswith("/")]
            elif data_type == "ManifestFile":
                inputs = self._manifest(uri)
            else:
                raise TransformFailed(
                    f"S3DataType {data_type!r} is not read by the local emulator; use S3Prefix or ManifestFile"
                )
        except ObjectMissing as exc:
            raise TransformFailed(str(exc)) from None
        if not inputs:
            raise TransformFailed(f"no input object under {uri}")
        return inputs

    def _manifest(self, uri: S3Uri) -> list[InputObject]:
        try:
            entries = json.loads(self.store.get(uri))
            prefix = S3Uri.parse(entries[0]["prefix"])
            relatives = [str(e) for e in entries[1:]]
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise TransformFailed(
                f'{uri} is not a manifest: a JSON list of {{"prefix": "s3://..."}} then keys '
                f"relative to it ({type(exc).__name__}: {exc})"
            ) from None
        return [InputObject(prefix.child(relative), relative.lstrip("/")) for relative in relatives]

    def transform(self, plan: TransformPlan, model: ImageClassifier) -> int:
        """Write one ``.out`` per input object; the number of objects."""
        chunks = iter(enumerate(plan.inputs[i : i + CHUNK] for i in range(0, len(plan.inputs), CHUNK)))
        running: dict[Future[None], int] = {}  # the job's chunks in TRANSFORM_POOL, by input order
        failures: list[tuple[int, BaseException]] = []
        while True:
            while not failures and len(running) < plan.workers and (item := next(chunks, None)) is not None:
                running[TRANSFORM_POOL.submit(self._transform_chunk, plan, model, item[1])] = item[0]
            if not running:
                break
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:  # after a failure, the chunks in progress end before the job does
                number = running.pop(future)
                if future.exception() is not None:
                    failures.append((number, future.exception()))  # type: ignore[arg-type]
        if failures:  # the first failure, in input order, is the job's reason
            raise min(failures, key=lambda failure: failure[0])[1]
        return len(plan.inputs)

    def _transform_chunk(self, plan: TransformPlan, model: ImageClassifier, chunk: tuple[InputObject, ...]) -> None:
        requests: list[tuple[int, np.ndarray]] = []  # (object index in chunk, decoded image)
        for index, item in enumerate(chunk):
            if self.job.stop_requested():
                raise TransformStopped
            try:
                body = self.store.get(item.uri)
            except ObjectMissing as exc:
                raise TransformFailed(str(exc)) from None
            for number, payload in enumerate(self._requests(plan, item, body), 1):
                try:
                    requests.append((index, decode_image(payload)))
                except UndecodableImage as exc:
                    raise TransformFailed(
                        f"the model rejected request {number} of {item.uri} (SplitType "
                        f"{'Line' if plan.split_lines else 'None'}): unable to decode the payload as an image: {exc}"
                    ) from None
        probabilities = model.predict_proba(np.stack([image for _, image in requests]))
        answers: list[list[bytes]] = [[] for _ in chunk]
        for (index, _), row in zip(requests, probabilities, strict=True):
            values = [float(p) for p in row]
            answer = json.dumps({"prediction": values} if plan.jsonlines else values).encode()
            answers[index].append(answer + (b"\n" if plan.assemble_lines else b""))
        for item, parts in zip(chunk, answers, strict=True):
            self.store.put(plan.output.child(item.relative + ".out"), b"".join(parts))

    @staticmethod
    def _requests(plan: TransformPlan, item: InputObject, body: bytes) -> list[bytes]:
        """The request bodies one object gives, per SplitType, BatchStrategy and MaxPayloadInMB."""
        records = [r for r in body.split(b"\n") if r] if plan.split_lines else [body]
        limit = plan.max_payload_bytes
        for record in records:
            if limit and len(record) > limit:
                raise TransformFailed(
                    f"a record of {item.uri} is {len(record)} bytes, more than MaxPayloadInMB "
                    f"({limit // (1024 * 1024)} MB)"
                )
        if not plan.multi_record or not plan.split_lines:
            return records
        batches: list[list[bytes]] = [[]]
        size = 0  # of the request being filled, newlines included: kept, not re-summed per record
        for record in records:  # pack records into requests up to the payload limit
            if batches[-1] and limit and size + len(record) > limit:
                batches.append([])
                size = 0
            batches[-1].append(record)
            size += len(record) + 1
        return [b"\n".join(batch) for batch in batches]
