"""One typed home for every setting.

A value is looked up, first match wins, in: explicit overrides (Airflow Params or CLI
flags), Airflow Variables (``scones_<name>``), the environment (``SCONES_<NAME>``), then the
defaults below. A section (``workflow``) is set the same way with its name in front:
``SCONES_WORKFLOW_MAX_CONCURRENCY``, Variable ``scones_workflow_max_concurrency``; a bad value
there fails only where the section is read (:class:`InvalidSection`), not every DAG. DAG files
call :func:`load_settings` inside tasks (Variables are never read at parse time); at parse time
only the environment and defaults are used.

Each field's one-line doc is the reference: ``docs/configuration.md`` is generated from them
(``scones config-reference --output docs/configuration.md``) and a test keeps it current.
AWS resource names derive from ``project`` in :mod:`scones.names` (``settings.names``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any, get_origin, get_type_hints

from scones.errors import ConfigurationError, OutOfRange
from scones.names import ResourceNames

#: The official CIFAR-100 "python version" archive and its published md5.
OFFICIAL_CIFAR100_URL = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
OFFICIAL_CIFAR100_MD5 = "eb9058c3a382ffc7106e4002c42a8d85"

#: Every vehicle class of CIFAR-100 (coarse groups vehicles_1 and vehicles_2).
VEHICLE_CLASSES = (
    "bicycle",
    "bus",
    "motorcycle",
    "pickup_truck",
    "train",
    "lawn_mower",
    "rocket",
    "streetcar",
    "tank",
    "tractor",
)
DEFAULT_CLASSES = ("bicycle", "motorcycle")

_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\Z")  # \Z, not $: "$" matches before a final newline
#: Room is left for the longest suffix within the 63/64-character limits of SageMaker, IAM and Lambda names.
_PROJECT_RE = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,31}\Z")


#: lambdas/ and statemachine/ sit at the project's root (include/scones/ is 2 below).
PROJECT_ROOT = Path(__file__).resolve().parents[2]

#: A batch whose images all fail must still fit the 256 KiB state limit, or the Map ends in
#: States.DataLimitExceeded, which no Catch can match, and no image's result survives.
MAX_BATCH_SIZE = 100
#: An inline Map's practical limit of images classified at once.
MAX_CONCURRENCY = 40
#: How many validation images may be scored to choose the smoke cases (two cases need two).
SMOKE_CANDIDATES_RANGE = (2, 500)


def _setting(
    default: Any = MISSING,
    doc: str = "",
    *,
    factory: Callable[[], Any] | None = None,
    shown: str = "",
    env_only: bool = False,
) -> Any:
    """A field with its one-line documentation (``docs/configuration.md`` is generated from it).

    :param shown: how the reference shows a default that depends on the machine (a path).
    :param env_only: set only by the environment (or code): never by a Variable or a trigger param.
    """
    metadata = {"doc": doc, "shown": shown, "env_only": env_only}
    if factory is not None:
        return field(default_factory=factory, metadata=metadata)
    return field(default=default, metadata=metadata)


def _check(ok: bool, message: str, *settings: str) -> None:
    """Raise :class:`OutOfRange` about ``settings`` unless ``ok``."""
    if not ok:
        raise OutOfRange(message, *settings)


@dataclass(frozen=True)
class WorkflowSettings:
    """The classification workflow's section (``SCONES_WORKFLOW_<NAME>``, Variable ``scones_workflow_<name>``).

    Only the workflow's tasks and ``scones traffic`` read it: a bad value here fails them, with its
    source named, and nothing else (the ETL, training, the monitor and its page load without it).
    """

    # Environment only: these files are zipped into the Lambda functions, so whoever may edit
    # Variables or trigger a run must not choose which worker directory is deployed as code.
    source_dir: Path = _setting(
        PROJECT_ROOT,
        "where lambdas/ and statemachine/ are (environment only: it is deployed as code)",
        shown="the project's root",
        env_only=True,
    )
    lambda_runtime: str = _setting("python3.11", "the functions' Lambda runtime")
    lambda_timeout: int = _setting(30, "seconds a function may run (3-900); the endpoint call dominates")
    lambda_memory: int = _setting(256, "MiB per function (128-10240)")
    max_concurrency: int = _setting(
        10, f"images a batch execution classifies at once (the Map state's MaxConcurrency, 1-{MAX_CONCURRENCY})"
    )
    max_batch_size: int = _setting(
        MAX_BATCH_SIZE, f"images per batch execution (1-{MAX_BATCH_SIZE}: its output must stay under 256 KiB)"
    )
    alerts_topic: str = _setting(
        "",
        "SNS topic failed classifications go to; empty: `<project>-workflow-alerts`. Set by the Variable or "
        "environment only: a trigger param named alerts_topic sets the monitor's (`alerts_topic` above)",
    )
    images_prefix: str = _setting("", "the S3 prefix serialize_image_data may read; empty: the dataset prefix")
    wait_timeout: int = _setting(600, "seconds `scones traffic` waits for an execution")
    smoke_tests: bool = _setting(True, "scones_deploy_workflow runs smoke executions (they need the endpoint)")
    smoke_batch_size: int = _setting(10, f"images in the smoke batch execution (1-{MAX_BATCH_SIZE})")
    smoke_candidates: int = _setting(
        40,
        "at most this many validation images are scored to choose the smoke cases ({}-{})".format(
            *SMOKE_CANDIDATES_RANGE
        ),
    )

    def __post_init__(self) -> None:
        _check(
            1 <= self.max_concurrency <= MAX_CONCURRENCY,
            f"workflow max_concurrency must be between 1 and {MAX_CONCURRENCY} (an inline Map's practical limit)",
            "max_concurrency",
        )
        _check(
            1 <= self.max_batch_size <= MAX_BATCH_SIZE,
            f"workflow max_batch_size must be between 1 and {MAX_BATCH_SIZE}: a batch's per-image results "
            "travel in one state of at most 256 KiB, and a failed image's result carries its error's cause "
            "(on AWS a JSON string with the stack trace, up to about 2 KiB)",
            "max_batch_size",
        )
        _check(
            3 <= self.lambda_timeout <= 900 and 128 <= self.lambda_memory <= 10240,
            "workflow lambda_timeout must be 3-900 s and lambda_memory 128-10240 MiB",
            "lambda_timeout",
            "lambda_memory",
        )
        low, high = SMOKE_CANDIDATES_RANGE
        _check(
            1 <= self.smoke_batch_size <= MAX_BATCH_SIZE and low <= self.smoke_candidates <= high,
            f"workflow smoke_batch_size must be 1-{MAX_BATCH_SIZE} and smoke_candidates {low}-{high}",
            "smoke_batch_size",
            "smoke_candidates",
        )
        _check(self.wait_timeout >= 1, "workflow wait_timeout must be at least 1 second", "wait_timeout")

    @property
    def lambdas_dir(self) -> Path:
        return self.source_dir / "lambdas"

    @property
    def statemachine_dir(self) -> Path:
        return self.source_dir / "statemachine"


class InvalidSection:
    """Stands for a section whose values cannot work: loading the settings succeeds, reading any of
    the section's values raises the section's :class:`ConfigurationError` (naming the setting and
    its source). One bad workflow value thus fails the workflow's tasks, not every DAG."""

    def __init__(self, error: ConfigurationError) -> None:
        self.error = error

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name == "error":  # copy/pickle protocol, or before __init__
            raise AttributeError(name)
        raise type(self.error)(*self.error.args) from self.error

    def __repr__(self) -> str:
        return f"InvalidSection({str(self.error)!r})"


@dataclass(frozen=True)
class Settings:
    """Everything configurable, with its default."""

    project: str = _setting("scones", "the project id every AWS resource name starts with (scones-endpoint...)")
    region: str = _setting("us-east-1", "AWS region")
    bucket: str = _setting("scones-unlimited-ml", "S3 bucket of the dataset, models, data capture and reports")
    dataset_prefix: str = _setting(
        "datasets/cifar100-vehicles", "where the dataset's versions and current.json live in the bucket"
    )
    classes: tuple[str, ...] = _setting(DEFAULT_CLASSES, "CIFAR-100 class names, in label order (comma-separated)")
    source_url: str = _setting(OFFICIAL_CIFAR100_URL, "the CIFAR-100 archive: http(s):// URL, s3:// URI or local path")
    cache_dir: Path = _setting(
        factory=lambda: Path.home() / ".cache" / "scones", doc="where the archive is cached", shown="~/.cache/scones"
    )
    upload_concurrency: int = _setting(16, "concurrent S3 uploads of the ETL (1-256)")
    training_instance_type: str = _setting("ml.g4dn.xlarge", "SageMaker training instance")
    epochs: int = _setting(30, "training epochs")
    learning_rate: float = _setting(0.001, "training learning rate")
    mini_batch_size: int = _setting(32, "training mini-batch size")
    max_training_seconds: int = _setting(3 * 3600, "a training job is stopped after this long (MaxRuntimeInSeconds)")
    poll_seconds: int = _setting(30, "how often operators poll SageMaker and Step Functions (the emulator wants 1)")
    retry_delay_seconds: int = _setting(
        30, "a failed task's first retry waits this long, each next one twice as long (at most 10 minutes)"
    )
    sagemaker_role_arn: str = _setting(
        "", "SageMaker execution role; empty: the DAG creates (or reuses) `<project>-sagemaker-execution`"
    )
    models_prefix: str = _setting("models", "where training output and the deployment record live in the bucket")
    endpoint_instance_type: str = _setting("ml.m5.large", "SageMaker hosting instance")
    min_validation_accuracy: float = _setting(0.80, "the quality gate: a model below it is not deployed (0-1)")
    accuracy_tolerance: float = _setting(0.01, "a new model may be this much worse than the serving one (0-1)")
    keep_versions: int = _setting(3, "models and endpoint configs kept besides the serving one")
    dataset_keep_versions: int = _setting(
        3, "dataset versions kept besides the published one and those models trained on"
    )
    dataset_max_age_days: int = _setting(0, "older dataset versions go even within the count (0: no age limit)")
    confidence_threshold: float = _setting(
        0.93, "below it, the workflow fails an image with ThresholdConfidenceNotMet (0-1)"
    )
    max_low_confidence_rate: float = _setting(
        0.25, "the monitor flags a day whose low-confidence share is above it (0-1)"
    )
    min_daily_records: int = _setting(1, "the monitor flags a day with fewer captured inferences (0: never)")
    alerts_topic: str = _setting(
        "",
        "SNS topic the monitor publishes violations to; empty: `<project>-monitor-alerts` (`scones-monitor-alerts` by default). "
        "Until issue 20 it was always `scones-monitor-alerts`: a project other than scones keeps that topic with "
        "`SCONES_ALERTS_TOPIC=scones-monitor-alerts`. A trigger param `alerts_topic` sets this one, not the workflow's",
    )
    data_capture_prefix: str = _setting("data_capture", "where the endpoint's data capture goes in the bucket")
    data_capture_sampling_percentage: int = _setting(100, "share of requests the endpoint captures (0-100)")
    data_capture_kms_key_id: str = _setting("", "KMS key for the data capture; empty: S3's default encryption")
    #: An :class:`InvalidSection` when a workflow value cannot work (see :func:`load_settings`).
    workflow: WorkflowSettings = _setting(factory=WorkflowSettings, doc="the classification workflow's section (below)")

    def __post_init__(self) -> None:
        _check(
            bool(_BUCKET_RE.match(self.bucket)),
            f"bucket {self.bucket!r} is not a valid S3 bucket name "
            "(3-63 lowercase letters, digits, dots or hyphens); set SCONES_BUCKET",
            "bucket",
        )
        _check(
            bool(_PROJECT_RE.match(self.project)),
            f"project {self.project!r} cannot start AWS resource names: use letters, digits and hyphens, "
            "starting with a letter, at most 32; set SCONES_PROJECT",
            "project",
        )
        _check(bool(self.classes), "classes is empty: name at least one CIFAR-100 class", "classes")
        _check(0 < self.upload_concurrency <= 256, "upload_concurrency must be between 1 and 256", "upload_concurrency")
        for name in (
            "confidence_threshold",
            "min_validation_accuracy",
            "accuracy_tolerance",
            "max_low_confidence_rate",
        ):
            _check(0.0 <= getattr(self, name) <= 1.0, f"{name} must be between 0 and 1", name)
        _check(
            0 <= self.data_capture_sampling_percentage <= 100,
            "data_capture_sampling_percentage must be between 0 and 100",
            "data_capture_sampling_percentage",
        )
        for name in ("training_instance_type", "endpoint_instance_type"):
            _check(
                bool(re.match(r"^ml\.[a-z0-9]+\.[a-z0-9]+$", getattr(self, name))),
                f"{name}={getattr(self, name)!r} is not a SageMaker instance type like ml.g4dn.xlarge",
                name,
            )
        _check(
            self.epochs >= 1 and self.mini_batch_size >= 1 and self.keep_versions >= 0 and self.min_daily_records >= 0,
            "epochs and mini_batch_size must be positive, keep_versions and min_daily_records not negative",
            "epochs",
            "mini_batch_size",
            "keep_versions",
            "min_daily_records",
        )
        _check(
            self.dataset_keep_versions >= 0 and self.dataset_max_age_days >= 0,
            "dataset_keep_versions and dataset_max_age_days must not be negative",
            "dataset_keep_versions",
            "dataset_max_age_days",
        )
        _check(
            self.max_training_seconds >= 1 and self.poll_seconds >= 1,
            "max_training_seconds and poll_seconds must be at least 1",
            "max_training_seconds",
            "poll_seconds",
        )
        _check(self.retry_delay_seconds >= 0, "retry_delay_seconds must be at least 0", "retry_delay_seconds")

    @property
    def names(self) -> ResourceNames:
        """Every AWS resource name, from the project id (:mod:`scones.names`)."""
        return ResourceNames.of(self)

    @property
    def dataset_uri(self) -> str:
        return f"s3://{self.bucket}/{self.dataset_prefix.strip('/')}"

    @property
    def endpoint_name(self) -> str:
        """The serving endpoint: stable across nights, updated in place."""
        return self.names.endpoint

    @property
    def data_capture_uri(self) -> str:
        return f"s3://{self.bucket}/{self.data_capture_prefix.strip('/')}"

    @property
    def workflow_images_prefix(self) -> str:
        """What serialize_image_data may read: the workflow's ``images_prefix``, else the dataset's."""
        return (self.workflow.images_prefix or self.dataset_prefix).strip("/") + "/"


#: Sections of Settings: field -> its class. Each is set as ``SCONES_<SECTION>_<NAME>``.
SECTIONS: dict[str, type] = {"workflow": WorkflowSettings}

_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def _coerce(name: str, kind: Any, value: Any, source: str) -> Any:
    """Turn a Param/Variable/env value (often a string) into the field's type."""
    try:
        if get_origin(kind) is tuple:
            items = value.split(",") if isinstance(value, str) else list(value)
            return tuple(s.strip() for s in items if str(s).strip())
        if kind is Path:
            return Path(value).expanduser()
        if kind is bool:
            if isinstance(value, bool):
                return value
            if str(value).strip().lower() in _TRUE + _FALSE:
                return str(value).strip().lower() in _TRUE
            raise ValueError(f"say one of {', '.join(_TRUE + _FALSE)}")
        if kind is int and isinstance(value, float) and not value.is_integer():
            raise ValueError("not a whole number")
        return kind(value)
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(
            f"setting {name}={value!r} ({source}) is not a valid {getattr(kind, '__name__', kind)}: {exc}"
        ) from exc


def _load_section(
    cls: type,
    overrides: Mapping[str, Any],
    variables: Callable[[str], str | None] | None,
    environ: Mapping[str, str],
    section: str = "",
) -> tuple[dict[str, Any], dict[str, str]]:
    """The values of ``cls``'s fields that are set anywhere, coerced, and where each came from
    (``max_concurrency='100' from environment SCONES_WORKFLOW_MAX_CONCURRENCY``); sections are
    left to the caller."""
    hints = get_type_hints(cls)
    scope = f"{section}_" if section else ""
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for f in fields(cls):
        if f.name in SECTIONS and not section:
            continue
        key = f"{scope}{f.name}"
        if f.name in overrides:
            raw, source = overrides[f.name], "override"
        elif (
            variables is not None
            and not f.metadata.get("env_only")
            and (var := variables(f"scones_{key}")) not in (None, "")
        ):
            raw, source = var, f"Airflow Variable scones_{key}"
        elif (env := environ.get(f"SCONES_{key.upper()}")) not in (None, ""):
            raw, source = env, f"environment SCONES_{key.upper()}"
        else:
            continue
        values[f.name] = _coerce(key if section else f.name, hints[f.name], raw, source)
        sources[f.name] = f"{f.name}={raw!r} from {source}"
    unknown = set(overrides) - {f.name for f in fields(cls)}
    if unknown:
        what = f"{section} setting(s)" if section else "setting(s)"
        raise ConfigurationError(f"unknown {what}: {', '.join(sorted(unknown))}")
    return values, sources


def _build(cls: type, values: dict[str, Any], sources: Mapping[str, str]) -> Any:
    """``cls(**values)``; a range error says where the values it is about came from."""
    try:
        return cls(**values)
    except OutOfRange as exc:
        given = [sources[name] for name in exc.settings if name in sources]
        if not given:  # defaults only: nothing the user set to point at
            raise
        raise OutOfRange(f"{exc} (got {'; '.join(given)})", *exc.settings) from exc


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    variables: Callable[[str], str | None] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Build :class:`Settings` from overrides, Variables, the environment and defaults.

    A section with a value that cannot work does not fail the load: it becomes an
    :class:`InvalidSection`, which raises that error where the section is read (only the
    workflow's tasks and ``scones traffic`` read ``settings.workflow``).

    :param overrides: explicit values (Airflow Params, CLI flags); ``None`` values are ignored. A
        section's are a mapping under its name: ``{"workflow": {"max_concurrency": 4}}``.
    :param variables: a lookup such as ``lambda k: Variable.get(k, default=None)``.
    :param environ: the environment (``os.environ`` if not given).
    """
    environ = os.environ if environ is None else environ
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None and v != ""}
    values, sources = _load_section(Settings, overrides, variables, environ)
    for section, cls in SECTIONS.items():
        given = overrides.get(section) or {}
        if isinstance(given, cls):
            values[section] = given
            continue
        if not isinstance(given, Mapping):
            raise ConfigurationError(
                f"setting {section} is a section: give its values as a mapping such as "
                f"{{{section!r}: {{'max_concurrency': 4}}}}, not {given!r}"
            )
        given = {k: v for k, v in given.items() if v is not None and v != ""}
        try:
            values[section] = _build(cls, *_load_section(cls, given, variables, environ, section))
        except ConfigurationError as exc:
            values[section] = InvalidSection(exc)
    return _build(Settings, values, sources)


def split_overrides(params: Mapping[str, Any]) -> dict[str, Any]:
    """Trigger params as :func:`load_settings` overrides: a Settings field by its name, a section's
    field (``max_concurrency``) into its section; any other param (a run option) is left out, and
    so is an environment-only setting (``source_dir``): whoever triggers a run does not choose it."""
    top = {f.name for f in fields(Settings)} - set(SECTIONS)
    overrides: dict[str, Any] = {k: v for k, v in params.items() if k in top}
    for section, cls in SECTIONS.items():
        settable = {f.name for f in fields(cls) if not f.metadata.get("env_only")} - top
        mine = {k: v for k, v in params.items() if k in settable}
        if mine:
            overrides[section] = mine
    return overrides


__all__ = [
    "DEFAULT_CLASSES",
    "MAX_BATCH_SIZE",
    "MAX_CONCURRENCY",
    "OFFICIAL_CIFAR100_MD5",
    "OFFICIAL_CIFAR100_URL",
    "PROJECT_ROOT",
    "SMOKE_CANDIDATES_RANGE",
    "VEHICLE_CLASSES",
    "InvalidSection",
    "Settings",
    "WorkflowSettings",
    "load_settings",
    "split_overrides",
]
