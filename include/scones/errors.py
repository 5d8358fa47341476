"""The project's exceptions: each says what is wrong and what to do.

Hierarchy::

    SconesError
    ├── ConfigurationError        a setting or parameter has a bad value
    │   └── UnknownClassError     a class name that CIFAR-100 does not have
    ├── SourceError               the dataset source cannot be read
    │   ├── SourceUnreachable     network or S3 error after retries, or no such file
    │   ├── ChecksumMismatch      the official archive's md5 is not the published one
    │   └── CorruptArchive        not a readable CIFAR-100 python archive
    ├── DestinationError          the S3 destination cannot be written
    └── TrainingJobFailed         the SageMaker training job ended Failed or Stopped
"""

from __future__ import annotations


class SconesError(Exception):
    """Base class of every error this project raises on purpose."""


class ConfigurationError(SconesError, ValueError):
    """A setting or a trigger parameter has a value that cannot work."""


class UnknownClassError(ConfigurationError):
    """A class name that is not one of the dataset's fine labels."""


class SourceError(SconesError):
    """The dataset source cannot be read."""


class SourceUnreachable(SourceError):
    """The source could not be fetched (after retrying transient errors)."""


class ChecksumMismatch(SourceError):
    """The downloaded archive's md5 differs from the expected one."""


class CorruptArchive(SourceError):
    """The archive is truncated, not gzip/tar, or lacks the CIFAR-100 members."""


class DestinationError(SconesError):
    """The S3 destination is missing or not writable."""


class TrainingJobFailed(SconesError):
    """The training job ended Failed or Stopped: rerunning it on the same data fails the same way."""
