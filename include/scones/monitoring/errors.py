"""The monitor's exceptions, under the project's :class:`~scones.errors.SconesError`.

Hierarchy::

    SconesError
    └── MonitorError               a monitor run cannot go on
        ├── WindowError            bad --start/--end or window bounds (also a ConfigurationError)
        ├── CaptureSourceError     the capture location cannot be listed or read
        ├── BaselineError          the baseline file is missing or not a known format
        └── ViolationsFound        the day violates a check (also a NonRetryableError: the data will not change)

A malformed capture line or record is never an exception: it is counted and reported.
"""

from __future__ import annotations

from scones.errors import ConfigurationError, NonRetryableError, SconesError


class MonitorError(SconesError):
    """A monitor run cannot go on."""


class WindowError(MonitorError, ConfigurationError):
    """The window's bounds are not ISO 8601 times, or end is not after start."""


class CaptureSourceError(MonitorError):
    """The capture location (local folder or S3 prefix) does not exist or cannot be read."""


class BaselineError(MonitorError):
    """The baseline is missing, unreadable, or neither probabilities nor statistics.json."""


class ViolationsFound(MonitorError, NonRetryableError):
    """The day's capture violates a check; the report is written and the alert published already."""
