"""The workflow's names and knobs, derived from the project's settings.

Every resource name comes from :meth:`Settings.resource_name`, so one ``project`` id names
them all (``scones-classify-image``, ``scones-workflow-alerts``...). The knobs below are the
workflow's own; each can be set in the environment as ``SCONES_WORKFLOW_<NAME>``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from scones.errors import ConfigurationError
from scones.settings import Settings

#: lambdas/ and statemachine/ sit at the project's root (include/scones/workflow/ is 3 below).
PROJECT_ROOT = Path(__file__).resolve().parents[3]

#: The three functions, in the order the state machine calls them: folder -> placeholder.
FUNCTIONS: dict[str, str] = {
    "serialize_image_data": "SerializeImageDataArn",
    "classify_image": "ClassifyImageArn",
    "filter_inferences": "FilterInferencesArn",
}
#: The state machines: ASL file stem in statemachine/ -> resource name suffix.
STATE_MACHINES: dict[str, str] = {"classify_image": "image-classification", "classify_batch": "batch-classification"}


#: A batch whose images all fail must still fit the 256 KiB state limit, or the Map ends in
#: States.DataLimitExceeded, which no Catch can match, and no image's result survives.
MAX_BATCH_SIZE = 100


@dataclass(frozen=True)
class WorkflowConfig:
    """Knobs of the workflow (env ``SCONES_WORKFLOW_<NAME>``), with their defaults."""

    source_dir: Path = PROJECT_ROOT  # where lambdas/ and statemachine/ are
    lambda_runtime: str = "python3.11"
    lambda_timeout: int = 30  # seconds; the endpoint call dominates
    lambda_memory: int = 256  # MiB
    max_concurrency: int = 10  # images a batch execution classifies at once (Map MaxConcurrency)
    max_batch_size: int = 100  # images per batch execution (its output must stay under 256 KiB)
    alerts_topic: str = ""  # default: <project>-workflow-alerts
    images_prefix: str = ""  # what serialize_image_data may read; default: the dataset prefix
    wait_timeout: int = 600  # seconds to wait for an execution

    def __post_init__(self) -> None:
        if not 1 <= self.max_concurrency <= 40:
            raise ConfigurationError("workflow max_concurrency must be between 1 and 40 (an inline Map's practical limit)")
        if not 1 <= self.max_batch_size <= MAX_BATCH_SIZE:
            raise ConfigurationError(
                f"workflow max_batch_size must be between 1 and {MAX_BATCH_SIZE}: a batch's per-image results "
                "travel in one state of at most 256 KiB, and a failed image's result carries its error's cause "
                "(on AWS a JSON string with the stack trace, up to about 2 KiB)"
            )
        if not 3 <= self.lambda_timeout <= 900 or not 128 <= self.lambda_memory <= 10240:
            raise ConfigurationError("workflow lambda_timeout must be 3-900 s and lambda_memory 128-10240 MiB")

    @property
    def lambdas_dir(self) -> Path:
        return self.source_dir / "lambdas"

    @property
    def statemachine_dir(self) -> Path:
        return self.source_dir / "statemachine"


def load_workflow_config(overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> WorkflowConfig:
    """Overrides (Params, CLI flags), then ``SCONES_WORKFLOW_<NAME>``, then the defaults."""
    environ = os.environ if environ is None else environ
    overrides = {k: v for k, v in (overrides or {}).items() if v not in (None, "")}
    values: dict[str, Any] = {}
    for f in fields(WorkflowConfig):
        raw = overrides.get(f.name, environ.get(f"SCONES_WORKFLOW_{f.name.upper()}") or None)
        if raw is None:
            continue
        kind = Path if isinstance(f.default, Path) else type(f.default)
        try:
            values[f.name] = kind(raw).expanduser() if kind is Path else kind(raw)
        except (TypeError, ValueError) as exc:
            raise ConfigurationError(f"workflow setting {f.name}={raw!r} is not a valid {kind.__name__}") from exc
    if unknown := set(overrides) - {f.name for f in fields(WorkflowConfig)}:
        raise ConfigurationError(f"unknown workflow setting(s): {', '.join(sorted(unknown))}")
    return WorkflowConfig(**values)


@dataclass(frozen=True)
class WorkflowNames:
    """Every resource name of the workflow, from the project id."""

    settings: Settings
    config: WorkflowConfig = field(default_factory=WorkflowConfig)

    def function(self, folder: str) -> str:
        return self.settings.resource_name(folder.replace("_", "-"))

    def function_role(self, folder: str) -> str:
        return f"{self.function(folder)}-role"

    def state_machine(self, stem: str) -> str:
        return self.settings.resource_name(STATE_MACHINES[stem])

    @property
    def state_machine_role(self) -> str:
        return self.settings.resource_name("workflow-states-role")

    @property
    def alerts_topic(self) -> str:
        return self.config.alerts_topic or self.settings.resource_name("workflow-alerts")

    @property
    def images_prefix(self) -> str:
        return (self.config.images_prefix or self.settings.dataset_prefix).strip("/") + "/"
