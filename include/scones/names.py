"""Every AWS resource name the project creates or looks for, from one project id.

``ResourceNames.of(settings)`` (or ``settings.names``) is the one place a name is made: the
DAGs' tasks, the CLI, the benchmarks and the IAM policy renderer (``scones aws-policy``) all
ask it, so a policy always allows exactly what the tasks name::

    >>> from scones.names import ResourceNames
    >>> names = ResourceNames("muffins")
    >>> names.endpoint, names.training_job("20261123T020000"), names.function("classify_image")
    ('muffins-endpoint', 'muffins-train-20261123T020000', 'muffins-classify-image')

Light on purpose (DAG files import it at parse time through :mod:`scones.settings`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from scones.errors import ConfigurationError

if TYPE_CHECKING:
    from scones.settings import Settings

#: SageMaker's limit for job, model and endpoint config names.
MAX_NAME = 63

#: The workflow's state machines: ASL file stem in statemachine/ -> the name's suffix.
STATE_MACHINE_SUFFIXES: dict[str, str] = {
    "classify_image": "image-classification",
    "classify_batch": "batch-classification",
}


@dataclass(frozen=True)
class ResourceNames:
    """Names derived from ``project``; the two alert topics may be set explicitly instead."""

    project: str
    monitor_alerts: str = ""  # Settings.alerts_topic
    workflow_alerts: str = ""  # Settings.workflow.alerts_topic
    #: The workflow section's error, raised when its topic is asked: other names do not need it.
    workflow_error: ConfigurationError | None = field(default=None, compare=False, repr=False)

    @classmethod
    def of(cls, settings: Settings) -> ResourceNames:
        try:
            return cls(settings.project, settings.alerts_topic, settings.workflow.alerts_topic)
        except ConfigurationError as exc:  # a bad workflow value (scones.settings.InvalidSection)
            return cls(settings.project, settings.alerts_topic, workflow_error=exc)

    def _name(self, suffix: str) -> str:
        return f"{self.project}-{suffix}"

    # SageMaker: training jobs, their models and endpoint configs, the endpoint, the role.
    @property
    def endpoint(self) -> str:
        """The serving endpoint: stable across nights, updated in place (blue/green)."""
        return self._name("endpoint")

    @property
    def training_job_prefix(self) -> str:
        """Every training job, and so every model and endpoint config, starts with it."""
        return self._name("train-")

    def training_job(self, stamp: str) -> str:
        """``scones-train-20261123T020000``: unique per run, valid as a SageMaker name."""
        clean = re.sub(r"[^A-Za-z0-9-]", "", stamp.replace(":", "").replace("+0000", ""))
        return f"{self.training_job_prefix}{clean}"[:MAX_NAME].rstrip("-")

    @staticmethod
    def model(training_job: str) -> str:
        """A night's model is named after its training job."""
        return training_job[:MAX_NAME]

    @staticmethod
    def endpoint_config(training_job: str) -> str:
        return f"{training_job[: MAX_NAME - 7]}-config"

    @property
    def backlog_job_prefix(self) -> str:
        """Batch transform jobs of ``scones classify-backlog`` (lower case: SageMaker's ARNs are)."""
        return f"{self.project.lower()}-backlog-"

    @property
    def sagemaker_role(self) -> str:
        """The execution role the DAG creates when ``sagemaker_role_arn`` is not set."""
        return self._name("sagemaker-execution")

    # The classification workflow: three functions, two state machines, their roles, a topic.
    def function(self, folder: str) -> str:
        """The Lambda function deployed from ``lambdas/<folder>``."""
        return self._name(folder.replace("_", "-"))

    def function_role(self, folder: str) -> str:
        return f"{self.function(folder)}-role"

    def state_machine(self, stem: str) -> str:
        """The state machine deployed from ``statemachine/<stem>.asl.json``."""
        try:
            return self._name(STATE_MACHINE_SUFFIXES[stem])
        except KeyError:
            raise KeyError(f"no state machine {stem!r}: the workflow has {', '.join(STATE_MACHINE_SUFFIXES)}") from None

    @property
    def state_machine_role(self) -> str:
        return self._name("workflow-states-role")

    @property
    def workflow_alerts_topic(self) -> str:
        """Where failed classifications are published."""
        if self.workflow_error is not None:
            raise type(self.workflow_error)(*self.workflow_error.args) from self.workflow_error
        return self.workflow_alerts or self._name("workflow-alerts")

    @property
    def monitor_alerts_topic(self) -> str:
        """Where the daily monitor publishes violations."""
        return self.monitor_alerts or self._name("monitor-alerts")
