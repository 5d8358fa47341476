"""What the monitor page reads from S3: the days with a report, one day's report and files, trends.

Everything here comes from S3, which more principals can write than can log in to Airflow (the
SageMaker execution role can write the whole bucket), so it is treated as untrusted: a figure
that is not a number is shown as missing, and text is only ever escaped where it is rendered
(``scones.ui.pages``).
"""

from __future__ import annotations

import json
import math
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from scones.monitoring.sinks import DAY, MONITORING_PREFIX, REPORT_FILE, list_report_days, report_prefix

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

#: What the page serves from a report folder; anything else is never fetched from S3 (fullmatch:
#: "$" would also accept a name ending in a newline).
FILE = re.compile(r"[A-Za-z0-9_.-]+\.(png|json|html)")
_TREND_READERS = 8  # report.json files fetched at once for the trends


class ReportUnreadable(Exception):
    """A report.json that is not a JSON object (a half-written or foreign file)."""


def number(value: Any) -> float | None:
    """``value`` as a finite float, or None (a missing, textual or non-finite figure)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)  # an integer of 400 digits is valid JSON and overflows a float
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


@dataclass(frozen=True)
class DayFigures:
    """One day's headline figures, as the trend charts plot them."""

    day: str
    records: float | None
    low_confidence_rate: float | None
    max_low_confidence_rate: float | None
    mean_confidence: float | None
    class_share_psi: float | None
    confidence_psi: float | None
    confidence_ks: float | None
    violations: tuple[str, ...]

    @classmethod
    def from_report(cls, day: str, report: dict[str, Any]) -> DayFigures:
        def get(*path: str) -> Any:
            value: Any = report
            for key in path:
                value = value.get(key) if isinstance(value, dict) else None
            return value

        violations = get("violations") if isinstance(get("violations"), list) else []
        return cls(
            day=day,
            records=number(get("records")),
            low_confidence_rate=number(get("low_confidence_rate")),
            max_low_confidence_rate=number(get("thresholds", "max_low_confidence_rate")),
            mean_confidence=number(get("confidence", "mean")),
            class_share_psi=number(get("drift", "class_share_psi")),
            confidence_psi=number(get("drift", "confidence_psi")),
            confidence_ks=number(get("drift", "confidence_ks")),
            violations=tuple(str(v.get("check")) for v in violations if isinstance(v, dict)),
        )


class ReportStore:
    """The reports of one endpoint under ``s3://<bucket>/<prefix>/<endpoint>/<yyyy-mm-dd>/``."""

    def __init__(self, s3: S3Client, bucket: str, endpoint: str, prefix: str = MONITORING_PREFIX) -> None:
        self.s3, self.bucket, self.endpoint, self.prefix = s3, bucket, endpoint, prefix

    def days(self) -> list[str]:
        """Days with a report folder, newest first."""
        return list_report_days(self.s3, self.bucket, self.endpoint, self.prefix)

    def _key(self, day: str, name: str) -> str:
        if not DAY.fullmatch(day) or not FILE.fullmatch(name):
            raise ValueError(f"not a report file: {day}/{name}")
        return report_prefix(self.endpoint, day, self.prefix) + name

    def read(self, day: str, name: str) -> bytes | None:
        """One file of a day's report, or None when it does not exist."""
        try:
            return self.s3.get_object(Bucket=self.bucket, Key=self._key(day, name))["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise

    def report(self, day: str) -> dict[str, Any] | None:
        """The day's ``report.json``, or None when that day has none.

        :raises ReportUnreadable: the file is there but is not a JSON object.
        """
        body = self.read(day, REPORT_FILE)
        if body is None:
            return None
        try:
            report = json.loads(body)
        except ValueError as exc:
            raise ReportUnreadable(f"{day}/{REPORT_FILE} is not valid JSON ({exc})") from exc
        if not isinstance(report, dict):
            raise ReportUnreadable(f"{day}/{REPORT_FILE} is not a JSON object")
        return report

    def files(self, day: str) -> list[str]:
        """The names in a day's folder that the page may serve, sorted."""
        listing = self.s3.list_objects_v2(Bucket=self.bucket, Prefix=report_prefix(self.endpoint, day, self.prefix))
        names = (o["Key"].rsplit("/", 1)[-1] for o in listing.get("Contents", []))
        return sorted(n for n in names if FILE.fullmatch(n))

    def trend(self, days: list[str]) -> list[DayFigures]:
        """The figures of ``days`` (oldest first); a day whose report is missing or unreadable is left out."""

        def figures(day: str) -> DayFigures | None:
            try:
                report = self.report(day)
            except ReportUnreadable:
                return None
            return DayFigures.from_report(day, report) if report is not None else None

        with ThreadPoolExecutor(_TREND_READERS) as pool:
            found = list(pool.map(figures, sorted(days)))
        return [f for f in found if f is not None]
