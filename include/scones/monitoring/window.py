"""The time window a monitor run covers, and the capture partitions it spans.

SageMaker Data Capture writes ``<prefix>/<endpoint>/<variant>/yyyy/mm/dd/hh/<file>.jsonl`` in
UTC, so a window [start, end) maps to the hourly partitions from ``start``'s hour up to (not
including) ``end`` when ``end`` is on the hour. Records are then filtered on their own
``inferenceTime``, so a window need not be whole hours. Light module: no heavy imports, safe
to import from a DAG file.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from scones.monitoring.errors import WindowError

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
#: Windows up to this long list every hour in their report, empty ones included.
MAX_LISTED_SPAN = 7 * DAY


def parse_time(text: str | datetime) -> datetime:
    """An ISO 8601 time as an aware UTC datetime; a time without offset is taken as UTC.

    :raises WindowError: not an ISO 8601 date or time.
    """
    if isinstance(text, datetime):
        moment = text
    else:
        try:
            moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError as exc:
            raise WindowError(f"{text!r} is not an ISO 8601 time such as 2026-11-23T10:00:00Z") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def floor_hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class Window:
    """A half-open UTC interval [start, end): a record at ``end`` belongs to the next window."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", parse_time(self.start))
        object.__setattr__(self, "end", parse_time(self.end))
        if self.end <= self.start:
            raise WindowError(f"window end {self.end.isoformat()} is not after its start {self.start.isoformat()}")

    @classmethod
    def for_day(cls, day: date | str) -> Window:
        """The UTC day ``day`` (a date or ``yyyy-mm-dd``): what the daily DAG run covers."""
        if isinstance(day, str):
            try:
                day = date.fromisoformat(day)
            except ValueError as exc:
                raise WindowError(f"{day!r} is not a date like 2026-11-23") from exc
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        return cls(start, start + DAY)

    @classmethod
    def of_run(cls, data_interval_start: datetime, day: date | str | None = None) -> Window:
        """What a daily run covers: ``day`` if given, else the UTC day its data interval starts in.

        The DAG runs at 01:00 UTC for the day before, so its data interval is 01:00 to 01:00;
        the window is the whole UTC day the interval starts in (the report's day), and the
        hour's delay leaves time for the endpoint's last capture files of that day.
        """
        if day:
            return cls.for_day(day)
        return cls.for_day(data_interval_start.astimezone(UTC).date())

    @classmethod
    def around(cls, start: str | datetime | None, end: str | datetime | None, *, now: datetime | None = None) -> Window:
        """A window from optional bounds, as the CLI takes them.

        Both given: [start, end). One given: 24 hours from it or up to it. Neither: the 24 hours
        ending at the end of the current hour, so today's traffic is included.
        """
        if start is not None and end is not None:
            return cls(parse_time(start), parse_time(end))
        if start is not None:
            return cls(parse_time(start), parse_time(start) + DAY)
        if end is not None:
            return cls(parse_time(end) - DAY, parse_time(end))
        top = floor_hour(parse_time(now or datetime.now(UTC))) + HOUR
        return cls(top - DAY, top)

    @property
    def start_us(self) -> int:
        """Start in microseconds since the epoch, the unit records are compared in."""
        return _epoch_us(self.start)

    @property
    def end_us(self) -> int:
        return _epoch_us(self.end)

    def hours(self) -> list[datetime]:
        """Every hour whose partition may hold records of this window (as many as the window is long)."""
        hours, hour = [], floor_hour(self.start)
        while hour < self.end:
            hours.append(hour)
            hour += HOUR
        return hours

    def report_hours(self, hours_with_data: Iterable[datetime]) -> list[datetime]:
        """The hours a report lists and plots: every hour of a window up to a week long (an
        empty hour shows as a gap), else only the hours that hold data, so that a long window
        costs what it holds rather than its length (30 years are 263,000 hours)."""
        if self.end - floor_hour(self.start) <= MAX_LISTED_SPAN:
            return self.hours()
        return sorted(set(hours_with_data))

    @property
    def first_partition(self) -> str:
        """The ``yyyy/mm/dd/hh`` partition of the window's first hour."""
        return partition_of(self.start)

    @property
    def last_partition(self) -> str:
        """The partition of the window's last hour (the one holding ``end`` minus a microsecond)."""
        return partition_of(self.end - timedelta(microseconds=1))

    def covers_partition(self, name: str) -> bool:
        """Whether the ``yyyy/mm/dd/hh`` partition ``name`` may hold records of this window.

        Zero-padded partition names sort as their hours do, so this is a string comparison.
        """
        return self.first_partition <= name <= self.last_partition

    @property
    def label(self) -> str:
        """The report's date folder: the start's UTC day (a daily window is exactly one day)."""
        return self.start.strftime("%Y-%m-%d")

    def to_dict(self) -> dict[str, str]:
        return {"start": iso(self.start), "end": iso(self.end)}


def partition_of(moment: datetime) -> str:
    """``yyyy/mm/dd/hh`` of the hour holding ``moment``, zero-padded as SageMaker writes it
    (``strftime("%Y")`` does not pad a year before 1000 on glibc, and names must sort as hours do)."""
    return f"{moment.year:04d}/{moment.month:02d}/{moment.day:02d}/{moment.hour:02d}"


def iso(moment: datetime) -> str:
    """``2026-11-23T10:00:00Z``: the same style as SageMaker's ``inferenceTime``."""
    text = moment.astimezone(UTC).replace(tzinfo=None).isoformat()
    return f"{text}Z"


def _epoch_us(moment: datetime) -> int:
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
