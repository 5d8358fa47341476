"""Run one training job of the built-in image-classification algorithm, as its container would.

``TrainingRun.run()`` goes through SageMaker's secondary statuses: Starting (waiting for a
CPU slot), Downloading (read the ``.lst`` manifests and the images they name from the four
S3 channels), Training (fit :class:`~.learner.ImageClassifier`, one log line per epoch in
the algorithm's ``Epoch[n] Train-accuracy=...`` form), Uploading (write
``<S3OutputPath>/<job>/output/model.tar.gz``), then Completed; or Failed, with a
FailureReason that says what to fix.

Anything wrong with the request or the data raises :class:`TrainingFailed` ("ClientError:
..."); anything else is reported as "AlgorithmError: ..." with the traceback in the log.
The CloudWatch stream is ``/aws/sagemaker/TrainingJobs`` / ``<job>/algo-1-<epoch seconds>``,
where the provider's ``SageMakerHook`` tails it.
"""

from __future__ import annotations

import io
import json
import logging
import tarfile
import threading
import time
import traceback
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from scones.emulator.sagemaker import seams
from scones.emulator.sagemaker.exceptions import TrainingFailed, TrainingStopped
from scones.emulator.sagemaker.learner import (
    IMAGE_SIZE,
    OPTIMIZERS,
    EpochReport,
    ImageClassifier,
    SGDSettings,
    decode_image,
)
from scones.emulator.sagemaker.learner.images import UndecodableImage
from scones.emulator.sagemaker.storage import ObjectMissing, ObjectStore, S3Uri

if TYPE_CHECKING:
    from scones.emulator.sagemaker.models import EmulatedTrainingJob

log = logging.getLogger(__name__)

ALGORITHM = "image-classification"
CHANNELS = ("train", "validation", "train_lst", "validation_lst")
LOG_GROUP = "/aws/sagemaker/TrainingJobs"
MODEL_MEMBER = "model.npz"  # the one file inside model.tar.gz

#: How DescribeTrainingJob's MetricDefinitions find the metrics in the log lines we write
#: (``Epoch[3] Validation-accuracy=0.905000``); the last match is the final value.
_NUMBER = r"([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)"
METRIC_DEFINITIONS = [
    {"Name": "train:accuracy", "Regex": r"Epoch\[\d+\] Train-accuracy=" + _NUMBER},
    {"Name": "validation:accuracy", "Regex": r"Epoch\[\d+\] Validation-accuracy=" + _NUMBER},
]

#: Hyperparameters of the real network that the compact learner has no counterpart for.
NOT_APPLICABLE = (
    "num_layers",
    "use_pretrained_model",
    "augmentation_type",
    "precision_dtype",
    "multi_label",
    "checkpoint_frequency",
    "early_stopping",
    "early_stopping_min_epochs",
    "early_stopping_patience",
    "early_stopping_tolerance",
    "kv_store",
    "lr_scheduler_factor",
    "lr_scheduler_step",
    "resize",
    "top_k",
    "use_weighted_loss",
)

#: One training at a time: two would only share the same two cores, each twice as slow.
CPU_SLOTS = threading.BoundedSemaphore(1)


def algorithm_of(image_uri: str) -> str:
    """The ECR repository name of a training image: ``.../image-classification:1`` -> ``image-classification``."""
    name = image_uri.rsplit("/", 1)[-1]
    return name.split("@", 1)[0].split(":", 1)[0]


@dataclass(frozen=True)
class Hyperparameters:
    """The algorithm's hyperparameters that apply here, parsed from SageMaker's strings."""

    num_classes: int
    num_training_samples: int
    image_shape: tuple[int, int, int]
    sgd: SGDSettings
    ignored: tuple[str, ...]

    @classmethod
    def parse(cls, raw: dict[str, str] | None) -> Hyperparameters:
        raw = dict(raw or {})
        for required in ("num_classes", "num_training_samples"):
            if required not in raw:
                raise TrainingFailed(
                    f"the image-classification algorithm requires the hyperparameter {required!r}; "
                    'set it in HyperParameters (as a string, e.g. "2")'
                )
        defaults = SGDSettings()
        sgd = SGDSettings(
            epochs=_integer(raw, "epochs", defaults.epochs, minimum=1),
            mini_batch_size=_integer(raw, "mini_batch_size", defaults.mini_batch_size, minimum=1),
            learning_rate=_number(raw, "learning_rate", 0.1, low=0.0, high=1.0, open_low=True),
            momentum=_number(raw, "momentum", defaults.momentum, low=0.0, high=1.0, open_high=True),
            weight_decay=_number(raw, "weight_decay", defaults.weight_decay, low=0.0, high=1.0),
            optimizer=raw.get("optimizer", defaults.optimizer),
            beta_1=_number(raw, "beta_1", defaults.beta_1, low=0.0, high=1.0, open_high=True),
            beta_2=_number(raw, "beta_2", defaults.beta_2, low=0.0, high=1.0, open_high=True),
            eps=_number(raw, "eps", defaults.eps, low=0.0, high=1.0, open_low=True),
            gamma=_number(raw, "gamma", defaults.gamma, low=0.0, high=1.0, open_high=True),
        )
        if sgd.optimizer not in OPTIMIZERS:
            raise TrainingFailed(f"hyperparameter 'optimizer' is {sgd.optimizer!r}; use one of {', '.join(OPTIMIZERS)}")
        shape = raw.get("image_shape", "3,224,224")
        try:
            channels, height, width = (int(v) for v in shape.split(","))
        except ValueError:
            raise TrainingFailed(
                f'hyperparameter \'image_shape\' is {shape!r}; write it as "channels,height,width", e.g. "3,32,32"'
            ) from None
        if channels not in (1, 3) or height < 1 or width < 1:
            raise TrainingFailed(f"hyperparameter 'image_shape' {shape!r}: channels must be 1 or 3 and sizes positive")
        return cls(
            num_classes=_integer(raw, "num_classes", 0, minimum=2),
            num_training_samples=_integer(raw, "num_training_samples", 0, minimum=1),
            image_shape=(channels, height, width),
            sgd=sgd,
            ignored=tuple(sorted(k for k in raw if k in NOT_APPLICABLE)),
        )


def _integer(raw: dict[str, str], name: str, default: int, minimum: int) -> int:
    text = raw.get(name)
    if text is None:
        return default
    try:
        value = int(str(text).strip())
    except ValueError:
        raise TrainingFailed(f"hyperparameter {name!r} is {text!r}; it must be an integer >= {minimum}") from None
    if value < minimum:
        raise TrainingFailed(f"hyperparameter {name!r} is {value}; it must be >= {minimum}")
    return value


def _number(
    raw: dict[str, str],
    name: str,
    default: float,
    low: float,
    high: float,
    open_low: bool = False,
    open_high: bool = False,
) -> float:
    text = raw.get(name)
    if text is None:
        return default
    try:
        value = float(str(text).strip())
    except ValueError:
        value = float("nan")
    below = value <= low if open_low else value < low
    above = value >= high if open_high else value > high
    if not np.isfinite(value) or below or above:
        interval = f"{'(' if open_low else '['}{low}, {high}{')' if open_high else ']'}"
        raise TrainingFailed(f"hyperparameter {name!r} is {text!r}; it must be a number in {interval}")
    return value


class TrainingLog:
    """The job's CloudWatch Logs stream, named as SageMaker names it: ``<job>/algo-1-<seconds>``."""

    def __init__(self, account_id: str, region: str, job_name: str) -> None:
        self.account_id, self.region = account_id, region
        self.stream = f"{job_name}/algo-1-{int(time.time())}"
        self._last_ms = 0
        backend = seams.logs_backend(account_id, region)
        backend.ensure_log_group(LOG_GROUP)
        backend.ensure_log_stream(LOG_GROUP, self.stream)

    def __call__(self, message: str) -> None:
        # Strictly increasing timestamps keep the provider's (timestamp, skip) positions exact.
        now_ms = max(int(time.time() * 1000), self._last_ms + 1)
        self._last_ms = now_ms
        stamp = time.strftime("%m/%d/%Y %H:%M:%S", time.gmtime(now_ms / 1000))
        events = [{"timestamp": now_ms, "message": f"[{stamp} INFO] {line}"} for line in message.splitlines() or [""]]
        seams.logs_backend(self.account_id, self.region).put_log_events(LOG_GROUP, self.stream, events)


@dataclass(frozen=True)
class Dataset:
    images: np.ndarray  # (N, 32, 32, 3) uint8
    labels: np.ndarray  # (N,) int64


class TrainingRun:
    """Does the work of one :class:`EmulatedTrainingJob` on a background thread."""

    def __init__(self, job: EmulatedTrainingJob, account_id: str, region: str) -> None:
        self.job = job
        self.store = ObjectStore(account_id)
        self.account_id, self.region = account_id, region

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name=f"training-{self.job.training_job_name}", daemon=True)
        thread.start()
        return thread

    def run(self) -> None:
        job = self.job
        try:
            say = TrainingLog(self.account_id, self.region, job.training_job_name)
        except Exception as exc:  # no log stream: still fail the job visibly rather than hang
            job.fail(f"AlgorithmError: cannot open the training log ({exc})")
            return
        try:
            self._run(say)
        except TrainingStopped:
            say("Training stopped on request (StopTrainingJob); no model was saved")
            job.stopped()
        except TrainingFailed as exc:
            say(f"Training failed: {exc}")
            job.fail(str(exc))
        except Exception as exc:
            log.exception("training job %s crashed", job.training_job_name)
            say(traceback.format_exc())
            job.fail(f"AlgorithmError: {type(exc).__name__}: {exc}")

    def _run(self, say: TrainingLog) -> None:
        job = self.job
        image = job.algorithm_specification.get("TrainingImage", "")
        if algorithm_of(image) != ALGORITHM:
            raise TrainingFailed(
                f"the local emulator trains only SageMaker's built-in {ALGORITHM} algorithm (an ECR image "
                f"whose repository is '{ALGORITHM}', e.g. 811284229777.dkr.ecr.us-east-1.amazonaws.com/"
                f"{ALGORITHM}:1); got TrainingImage {image!r}"
            )
        params = Hyperparameters.parse(job.hyper_parameters)
        channels = self._channels()
        with CPU_SLOTS:
            self._unless_stopped()
            job.advance("Downloading", "Downloading input data")
            say(f"Local emulator of the {ALGORITHM} algorithm (CPU, compact model; see scones.emulator.sagemaker)")
            say("Hyperparameters: " + json.dumps(job.hyper_parameters or {}, sort_keys=True))
            if params.ignored:
                say("Not applicable to the compact model, ignored: " + ", ".join(params.ignored))
            if params.image_shape[1:] != (IMAGE_SIZE, IMAGE_SIZE):
                say(
                    f"image_shape is {params.image_shape}; the compact model works on {IMAGE_SIZE}x{IMAGE_SIZE} "
                    "images and resizes others"
                )
            train = self._read("train", channels, params.num_classes)
            validation = self._read("validation", channels, params.num_classes)
            say(
                f"Read {len(train.labels)} training and {len(validation.labels)} validation images "
                f"({params.num_classes} classes) from {channels['train']} and {channels['validation']}"
            )
            if len(train.labels) != params.num_training_samples:
                say(
                    f"WARNING: num_training_samples is {params.num_training_samples} but train.lst lists "
                    f"{len(train.labels)} images; training on all {len(train.labels)}"
                )
            missing = sorted(set(range(params.num_classes)) - set(train.labels.tolist()))
            if missing:
                raise TrainingFailed(
                    f"num_classes is {params.num_classes} but train.lst has no image of label(s) {missing}"
                )

            job.advance("Training", "Training image download completed. Training in progress.")
            started = time.monotonic()

            def on_epoch(report: EpochReport) -> None:
                self._unless_stopped()
                say(f"Epoch[{report.epoch}] Train-accuracy={report.train_accuracy:.6f}")
                if report.validation_accuracy is not None:
                    say(f"Epoch[{report.epoch}] Validation-accuracy={report.validation_accuracy:.6f}")
                say(f"Epoch[{report.epoch}] Time cost={report.seconds:.3f}")
                job.record_epoch(report)

            model = ImageClassifier.fit(
                train.images,
                train.labels,
                params.num_classes,
                params.sgd,
                validation=(validation.images, validation.labels),
                on_epoch=on_epoch,
                say=say,
            )
            say(f"Training took {time.monotonic() - started:.1f} s")

        self._unless_stopped()
        job.advance("Uploading", "Uploading generated training model")
        model.metadata = {"training_job": job.training_job_name, "hyperparameters": job.hyper_parameters or {}}
        artifact = S3Uri.parse(job.model_artifacts["S3ModelArtifacts"])
        self.store.put(artifact, package_model(model))
        say(f"Saved the model to {artifact}")
        job.complete()

    def _unless_stopped(self) -> None:
        if self.job.stop_requested():
            raise TrainingStopped

    def _channels(self) -> dict[str, S3Uri]:
        """The S3 prefix of each required channel; TrainingFailed if one is missing or unusable."""
        by_name = {c.get("ChannelName"): c for c in self.job.input_data_config or []}
        missing = [name for name in CHANNELS if name not in by_name]
        if missing:
            raise TrainingFailed(
                f"the {ALGORITHM} algorithm in .lst mode needs the channels {', '.join(CHANNELS)}; this job "
                f"has {', '.join(map(str, by_name)) or 'none'} and lacks {', '.join(missing)}. Add an "
                "InputDataConfig entry per missing channel (S3Prefix URI, ContentType application/x-image)"
            )
        prefixes = {}
        for name in CHANNELS:
            source = (by_name[name].get("DataSource") or {}).get("S3DataSource") or {}
            if source.get("S3DataType", "S3Prefix") != "S3Prefix":
                raise TrainingFailed(
                    f"channel {name!r} uses S3DataType {source.get('S3DataType')!r}; "
                    "the emulator reads S3Prefix channels only"
                )
            content_type = by_name[name].get("ContentType", "application/x-image")
            if content_type == "application/x-recordio":
                raise TrainingFailed(
                    f"channel {name!r} is RecordIO; the emulator reads .lst mode (ContentType application/x-image) only"
                )
            try:
                prefixes[name] = S3Uri.parse(source.get("S3Uri", ""))
            except ValueError as exc:
                raise TrainingFailed(f"channel {name!r}: {exc}") from None
        return prefixes

    def _read(self, split: str, channels: dict[str, S3Uri], num_classes: int) -> Dataset:
        """Images and labels of ``split`` ("train" or "validation") from its images and .lst channels."""
        entries = read_manifest(self.store, channels[f"{split}_lst"], num_classes)
        images = np.empty((len(entries), IMAGE_SIZE, IMAGE_SIZE, 3), np.uint8)
        for i, (line, _label, relative) in enumerate(entries):
            uri = channels[split].child(relative)
            try:
                images[i] = decode_image(self.store.get(uri))
            except ObjectMissing:
                raise TrainingFailed(f"{split}.lst line {line} names {relative!r} but {uri} does not exist") from None
            except UndecodableImage as exc:
                raise TrainingFailed(f"{uri} (from {split}.lst line {line}): {exc}") from None
        return Dataset(images, np.array([label for _, label, _ in entries], np.int64))


def read_manifest(store: ObjectStore, prefix: S3Uri, num_classes: int) -> list[tuple[int, int, str]]:
    """``(line number, label, relative path)`` of every line of the ``.lst`` file(s) under ``prefix``.

    A line is ``index<TAB>label<TAB>relative/path`` (labels may be written ``1.000000``).
    """
    try:
        files = [uri for uri in store.list(prefix) if uri.key.endswith(".lst")]
    except ObjectMissing as exc:
        raise TrainingFailed(str(exc)) from None
    if not files:
        raise TrainingFailed(
            f"no .lst manifest under {prefix}; the channel must hold one (index, label, path per line)"
        )
    entries = []
    for uri in files:
        text = store.get(uri).decode("utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            fields = line.split("\t")
            if len(fields) < 3:
                raise TrainingFailed(f"{uri} line {number}: expected index<TAB>label<TAB>path, got {line[:120]!r}")
            try:
                label_value = float(fields[1])
            except ValueError:
                label_value = float("nan")
            if not label_value.is_integer() or not 0 <= label_value < num_classes:
                raise TrainingFailed(
                    f"{uri} line {number}: label {fields[1]!r} is not an integer in 0..{num_classes - 1}"
                )
            entries.append((number, int(label_value), fields[-1].strip()))
    if not entries:
        raise TrainingFailed(f"the manifest(s) under {prefix} list no images")
    return entries


def package_model(model: ImageClassifier) -> bytes:
    """``model.tar.gz`` holding ``model.npz``."""
    data = model.to_bytes()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo(MODEL_MEMBER)
        info.size, info.mtime = len(data), int(time.time())
        tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def unpack_model(archive: bytes) -> ImageClassifier:
    """The model in a ``model.tar.gz`` written by :func:`package_model`; ValueError otherwise."""
    try:
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
            member = tar.extractfile(MODEL_MEMBER)  # read by name: nothing is extracted to disk
            data = member.read() if member else None
    except (tarfile.TarError, KeyError, OSError, EOFError) as exc:
        raise ValueError(f"not a model.tar.gz with {MODEL_MEMBER} ({exc})") from None
    if data is None:
        raise ValueError(f"{MODEL_MEMBER} in the archive is not a file")
    return ImageClassifier.from_bytes(data)
