"""One typed home for every setting.

A value is looked up, first match wins, in: explicit overrides (Airflow Params or CLI
flags), Airflow Variables (``scones_<name>``), the environment (``SCONES_<NAME>``), then the
defaults below. DAG files call :func:`load_settings` inside tasks (Variables are never read at
parse time); at parse time only the environment and defaults are used.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, get_origin, get_type_hints

from scones.errors import ConfigurationError

#: The official CIFAR-100 "python version" archive and its published md5.
OFFICIAL_CIFAR100_URL = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
OFFICIAL_CIFAR100_MD5 = "eb9058c3a382ffc7106e4002c42a8d85"

#: Every vehicle class of CIFAR-100 (coarse groups vehicles_1 and vehicles_2).
VEHICLE_CLASSES = (
    "bicycle", "bus", "motorcycle", "pickup_truck", "train",
    "lawn_mower", "rocket", "streetcar", "tank", "tractor",
)  # fmt: skip
DEFAULT_CLASSES = ("bicycle", "motorcycle")

_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\Z")  # \Z, not $: "$" matches before a final newline


@dataclass(frozen=True)
class Settings:
    """Everything configurable, with its default."""

    project: str = "scones"
    region: str = "us-east-1"
    bucket: str = "scones-unlimited-ml"
    dataset_prefix: str = "datasets/cifar100-vehicles"
    classes: tuple[str, ...] = DEFAULT_CLASSES
    source_url: str = OFFICIAL_CIFAR100_URL
    cache_dir: Path = field(default_factory=lambda: Path.home() / ".cache" / "scones")
    upload_concurrency: int = 16
    training_instance_type: str = "ml.g4dn.xlarge"
    epochs: int = 30
    learning_rate: float = 0.001
    mini_batch_size: int = 32
    max_training_seconds: int = 3 * 3600
    poll_seconds: int = 30  # how often operators poll SageMaker (the emulator wants 1)
    sagemaker_role_arn: str = ""  # empty: the DAG creates (or reuses) the role it needs
    models_prefix: str = "models"
    endpoint_instance_type: str = "ml.m5.large"
    min_validation_accuracy: float = 0.80
    accuracy_tolerance: float = 0.01  # a new model may be this much worse than the serving one
    keep_versions: int = 3  # models and endpoint configs kept besides the serving one
    dataset_keep_versions: int = 3  # dataset versions kept besides the published one and those models trained on
    dataset_max_age_days: int = 0  # older dataset versions go even within the count (0: no age limit)
    confidence_threshold: float = 0.93
    max_low_confidence_rate: float = 0.25  # the monitor flags a day above it
    min_daily_records: int = 1  # the monitor flags a day with fewer captured inferences (0: never)
    alerts_topic: str = "scones-monitor-alerts"  # SNS topic the monitor publishes violations to
    data_capture_prefix: str = "data_capture"
    data_capture_sampling_percentage: int = 100
    data_capture_kms_key_id: str = ""

    def __post_init__(self) -> None:
        if not _BUCKET_RE.match(self.bucket):
            raise ConfigurationError(
                f"bucket {self.bucket!r} is not a valid S3 bucket name "
                "(3-63 lowercase letters, digits, dots or hyphens); set SCONES_BUCKET"
            )
        if not self.classes:
            raise ConfigurationError("classes is empty: name at least one CIFAR-100 class")
        if not 0 < self.upload_concurrency <= 256:
            raise ConfigurationError("upload_concurrency must be between 1 and 256")
        for name in ("confidence_threshold", "min_validation_accuracy", "accuracy_tolerance", "max_low_confidence_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ConfigurationError(f"{name} must be between 0 and 1")
        if not 0 <= self.data_capture_sampling_percentage <= 100:
            raise ConfigurationError("data_capture_sampling_percentage must be between 0 and 100")
        for name in ("training_instance_type", "endpoint_instance_type"):
            if not re.match(r"^ml\.[a-z0-9]+\.[a-z0-9]+$", getattr(self, name)):
                raise ConfigurationError(f"{name}={getattr(self, name)!r} is not a SageMaker instance type like ml.g4dn.xlarge")
        if self.epochs < 1 or self.mini_batch_size < 1 or self.keep_versions < 0 or self.min_daily_records < 0:
            raise ConfigurationError("epochs and mini_batch_size must be positive, keep_versions and min_daily_records not negative")
        if self.dataset_keep_versions < 0 or self.dataset_max_age_days < 0:
            raise ConfigurationError("dataset_keep_versions and dataset_max_age_days must not be negative")

    @property
    def dataset_uri(self) -> str:
        return f"s3://{self.bucket}/{self.dataset_prefix.strip('/')}"

    def resource_name(self, suffix: str) -> str:
        """Every AWS resource name derives from the project id: ``scones-endpoint``."""
        return f"{self.project}-{suffix}"

    @property
    def endpoint_name(self) -> str:
        """The serving endpoint: stable across nights, updated in place."""
        return self.resource_name("endpoint")

    @property
    def data_capture_uri(self) -> str:
        return f"s3://{self.bucket}/{self.data_capture_prefix.strip('/')}"


def _coerce(name: str, kind: Any, value: Any) -> Any:
    """Turn a Param/Variable/env value (often a string) into the field's type."""
    try:
        if get_origin(kind) is tuple:
            items = value.split(",") if isinstance(value, str) else list(value)
            return tuple(s.strip() for s in items if str(s).strip())
        if kind is Path:
            return Path(value).expanduser()
        if kind is bool:
            return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes")
        return kind(value)
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(f"setting {name}={value!r} is not a valid {kind}: {exc}") from exc


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    variables: Callable[[str], str | None] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Build :class:`Settings` from overrides, Variables, the environment and defaults.

    :param overrides: explicit values (Airflow Params, CLI flags); ``None`` values are ignored.
    :param variables: a lookup such as ``lambda k: Variable.get(k, default=None)``.
    :param environ: the environment (``os.environ`` if not given).
    """
    environ = os.environ if environ is None else environ
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None and v != ""}
    hints = get_type_hints(Settings)
    values: dict[str, Any] = {}
    for f in fields(Settings):
        if f.name in overrides:
            raw = overrides[f.name]
        elif variables is not None and (var := variables(f"scones_{f.name}")) not in (None, ""):
            raw = var
        elif (env := environ.get(f"SCONES_{f.name.upper()}")) not in (None, ""):
            raw = env
        else:
            continue
        values[f.name] = _coerce(f.name, hints[f.name], raw)
    unknown = set(overrides) - {f.name for f in fields(Settings)}
    if unknown:
        raise ConfigurationError(f"unknown setting(s): {', '.join(sorted(unknown))}")
    return Settings(**values)


def airflow_variables() -> Callable[[str], str | None]:
    """Variable lookup for use inside a running task (never at DAG parse time)."""
    from airflow.sdk import Variable

    return lambda key: Variable.get(key, default=None)


__all__ = [
    "DEFAULT_CLASSES",
    "OFFICIAL_CIFAR100_MD5",
    "OFFICIAL_CIFAR100_URL",
    "VEHICLE_CLASSES",
    "Settings",
    "airflow_variables",
    "load_settings",
]
