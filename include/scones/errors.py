"""The project's exceptions: each says what is wrong and what to do.

Hierarchy::

    SconesError
    ├── NonRetryableError             retrying cannot help: the DAGs fail the task at once
    │   ├── ConfigurationError        a setting or parameter has a bad value
    │   │   ├── OutOfRange            a setting's value is outside what can work
    │   │   ├── UnknownClassError     a class name that CIFAR-100 does not have
    │   │   ├── EmptyClassError       a class the archive has no images of (in a split)
    │   │   └── DatasetNotFound       no dataset is published where the settings point
    │   ├── SourceError               the dataset source cannot be read (already retried inside)
    │   │   ├── SourceUnreachable     network or S3 error after retries, or no such file
    │   │   ├── ChecksumMismatch      the official archive's md5 is not the published one
    │   │   ├── CorruptArchive        not a readable CIFAR-100 python archive
    │   │   └── ArchiveChanged        the cached archive is not the one an earlier task checked
    │   ├── DestinationError          the S3 destination cannot be written (missing, no permission)
    │   ├── PublishConflict           another run published a newer dataset version meanwhile
    │   ├── TrainingJobFailed         the SageMaker training job ended Failed or Stopped
    │   ├── MissingMetric             the training job reported no validation accuracy
    │   ├── DeploymentRolledBack      the endpoint serves its previous config, not this run's
    │   ├── RollbackFailed            the endpoint could not be put back on the recorded deployment
    │   └── SmokeTestFailed           the endpoint or the workflow answered wrongly
    ├── DestinationUnavailable        S3 kept failing (network, 5xx, throttling) after retries: transient
    └── NothingToDoYet                a scheduled run finds nothing to work on yet: its task ends skipped

Areas add their own below these (``scones.workflow.errors``, ``scones.monitoring.errors``);
one that retrying cannot fix derives from :class:`NonRetryableError` too. Every other
exception (the network, throttling, an endpoint still updating) gets the task's retries: the
one rule is ``scones.airflow_glue.RETRY_POLICY``.
"""

from __future__ import annotations


class SconesError(Exception):
    """Base class of every error this project raises on purpose."""


class NonRetryableError(SconesError):
    """Retrying cannot help: the same input, code or model fails the same way again. The DAGs'
    retry policy fails the task at once, and the message says what to fix."""


class ConfigurationError(NonRetryableError, ValueError):
    """A setting or a trigger parameter has a value that cannot work."""


class OutOfRange(ConfigurationError):
    """A setting's value is outside its range; ``settings`` names the fields the check is about, so
    :func:`scones.settings.load_settings` can say where their values came from."""

    def __init__(self, message: str, *settings: str) -> None:
        super().__init__(message)
        self.settings = settings


class UnknownClassError(ConfigurationError):
    """A class name that is not one of the dataset's fine labels."""


class EmptyClassError(ConfigurationError):
    """A requested class has no images in the archive (or in one of its splits)."""


class SourceError(NonRetryableError):
    """The dataset source cannot be read."""


class SourceUnreachable(SourceError):
    """The source could not be fetched (after retrying transient errors)."""


class ChecksumMismatch(SourceError):
    """The downloaded archive's md5 differs from the expected one."""


class CorruptArchive(SourceError):
    """The archive is truncated, not gzip/tar, or lacks the CIFAR-100 members."""


class ArchiveChanged(SourceError):
    """The archive differs from the one an earlier task of the run checked (the cache was replaced)."""


class DatasetNotFound(ConfigurationError):
    """No dataset is published where the settings point."""


class DestinationError(NonRetryableError):
    """The S3 destination is missing or not writable."""


class DestinationUnavailable(SconesError):
    """S3 (or the network to it) kept failing after retries: not the input's fault, retry later."""


class NothingToDoYet(SconesError):
    """A scheduled run has nothing to work on yet (no dataset before the first ETL): not a failure,
    the task ends skipped with this message (``scones.airflow_glue.skipped_when_nothing_to_do``)."""


class PublishConflict(NonRetryableError):
    """A newer dataset version was published while this run wrote its own: nothing was changed."""


class TrainingJobFailed(NonRetryableError):
    """The training job ended Failed or Stopped: rerunning it on the same data fails the same way."""


class MissingMetric(NonRetryableError):
    """The training job reported no validation accuracy: nothing to gate on."""


class DeploymentRolledBack(NonRetryableError):
    """The endpoint is InService on its previous config: the update failed, the old model serves."""


class RollbackFailed(NonRetryableError):
    """The endpoint could not be put back on the recorded deployment; it still serves the new model."""


class SmokeTestFailed(NonRetryableError):
    """The endpoint answered, but not with what a classifier of these classes must answer; or a
    smoke execution of the workflow ended differently from its expectation."""
