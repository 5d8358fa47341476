"""The project's exceptions: each says what is wrong and what to do.

Hierarchy::

    SconesError
    ├── ConfigurationError        a setting or parameter has a bad value
    │   ├── UnknownClassError     a class name that CIFAR-100 does not have
    │   ├── EmptyClassError       a class the archive has no images of (in a split)
    │   └── DatasetNotFound       no dataset is published where the settings point
    ├── SourceError               the dataset source cannot be read
    │   ├── SourceUnreachable     network or S3 error after retries, or no such file
    │   ├── ChecksumMismatch      the official archive's md5 is not the published one
    │   └── CorruptArchive        not a readable CIFAR-100 python archive
    ├── DestinationError          the S3 destination cannot be written (missing, no permission)
    ├── DestinationUnavailable    S3 kept failing (network, 5xx, throttling) after retries: transient
    ├── PublishConflict           another run published a newer dataset version meanwhile
    └── TrainingJobFailed         the SageMaker training job ended Failed or Stopped
"""

from __future__ import annotations


class SconesError(Exception):
    """Base class of every error this project raises on purpose."""


class ConfigurationError(SconesError, ValueError):
    """A setting or a trigger parameter has a value that cannot work."""


class UnknownClassError(ConfigurationError):
    """A class name that is not one of the dataset's fine labels."""


class EmptyClassError(ConfigurationError):
    """A requested class has no images in the archive (or in one of its splits)."""


class SourceError(SconesError):
    """The dataset source cannot be read."""


class SourceUnreachable(SourceError):
    """The source could not be fetched (after retrying transient errors)."""


class ChecksumMismatch(SourceError):
    """The downloaded archive's md5 differs from the expected one."""


class CorruptArchive(SourceError):
    """The archive is truncated, not gzip/tar, or lacks the CIFAR-100 members."""


class DatasetNotFound(ConfigurationError):
    """No dataset is published where the settings point."""


class DestinationError(SconesError):
    """The S3 destination is missing or not writable."""


class DestinationUnavailable(SconesError):
    """S3 (or the network to it) kept failing after retries: not the input's fault, retry later."""


class PublishConflict(SconesError):
    """A newer dataset version was published while this run wrote its own: nothing was changed."""


class TrainingJobFailed(SconesError):
    """The training job ended Failed or Stopped: rerunning it on the same data fails the same way."""
