"""Thresholds and the checks that turn a window's figures into violations.

Each violation names the check that raised it, as Model Monitor's
``constraint_violations.json`` does (``feature_name``, ``constraint_check_type``,
``description``), plus the value and the threshold it crossed. Light module: a DAG file may
import :class:`Thresholds` and :data:`CHECKS` at parse time.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any

from scones.errors import ConfigurationError

if TYPE_CHECKING:
    from scones.monitoring.drift import Drift
    from scones.monitoring.stats import WindowStatistics

#: check name -> (feature it is about, Model Monitor's constraint_check_type for it)
CHECKS: dict[str, tuple[str, str]] = {
    "low_confidence_rate": ("confidence", "low_confidence_check"),
    "malformed_rate": ("capture_record", "completeness_check"),
    "record_count": ("capture_record", "completeness_check"),
    "class_share_drift_psi": ("predicted_label", "baseline_drift_check"),
    "confidence_drift_psi": ("confidence", "baseline_drift_check"),
    "confidence_drift_ks": ("confidence", "baseline_drift_check"),
}


@dataclass(frozen=True)
class Thresholds:
    """When a window is flagged. Defaults are module-level so a DAG's Params can show them."""

    confidence_threshold: float = 0.93  # below it an inference is "low confidence" (Lambda 3's gate)
    max_low_confidence_rate: float = 0.25
    max_malformed_rate: float = 0.01
    max_class_share_psi: float = 0.2  # PSI > 0.2: a shift worth a look, by the usual rule of thumb
    max_confidence_psi: float = 0.2
    max_confidence_ks: float = 0.1  # Model Monitor's default baseline-drift distance threshold
    min_records_for_drift: int = 100  # fewer: drift figures are noise, reported but not checked
    # Fewer inferences in the window is a violation: no traffic reached the endpoint, or data
    # capture is off or writes elsewhere; the other checks cannot see that. 0: not checked
    # (ad-hoc analyses); the daily DAG checks 1 (min_daily_records).
    min_records: int = 0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("min_records_for_drift", "min_records"):
                if value < 0:
                    raise ConfigurationError(f"{f.name} must not be negative")
            elif f.name.endswith("psi"):
                if value <= 0:
                    raise ConfigurationError(f"{f.name} must be positive (PSI is >= 0), got {value}")
            elif not 0.0 <= value <= 1.0:
                raise ConfigurationError(f"{f.name} must be between 0 and 1, got {value}")

    @classmethod
    def of(cls, settings: Any) -> Thresholds:
        """The daily monitor's: the settings' threshold, low-confidence limit and minimum records."""
        return cls(
            confidence_threshold=settings.confidence_threshold,
            max_low_confidence_rate=settings.max_low_confidence_rate,
            min_records=settings.min_daily_records,
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Violation:
    check: str  # one of CHECKS
    value: float
    threshold: float
    description: str

    def to_dict(self) -> dict[str, Any]:
        feature, check_type = CHECKS[self.check]
        return {
            "check": self.check,
            "feature_name": feature,
            "constraint_check_type": check_type,
            "value": self.value,
            "threshold": self.threshold,
            "description": self.description,
        }


def find_violations(statistics: WindowStatistics, drift: Drift | None, thresholds: Thresholds) -> list[Violation]:
    """Every threshold the window crosses (strictly above a maximum, or below ``min_records``)."""
    found: list[Violation] = []
    if statistics.records < thresholds.min_records:
        found.append(
            Violation(
                "record_count",
                statistics.records,
                thresholds.min_records,
                f"{statistics.records} inferences captured (minimum {thresholds.min_records}): no traffic reached "
                "the endpoint, or its data capture is off or writes elsewhere",
            )
        )
    rate = statistics.low_confidence_rate
    if rate is not None and rate > thresholds.max_low_confidence_rate:
        found.append(
            Violation(
                "low_confidence_rate",
                round(rate, 6),
                thresholds.max_low_confidence_rate,
                f"{rate:.1%} of {statistics.records} inferences are below confidence "
                f"{thresholds.confidence_threshold} (maximum {thresholds.max_low_confidence_rate:.1%})",
            )
        )
    if statistics.malformed_rate > thresholds.max_malformed_rate:
        found.append(
            Violation(
                "malformed_rate",
                round(statistics.malformed_rate, 6),
                thresholds.max_malformed_rate,
                f"{statistics.malformed_count} capture records could not be read "
                f"({statistics.malformed_rate:.1%}; by reason: {statistics.malformed})",
            )
        )
    if drift is None or not drift.evaluated:
        return found
    for check, value, limit, what in (
        ("class_share_drift_psi", drift.class_share_psi, thresholds.max_class_share_psi, "predicted-class shares"),
        ("confidence_drift_psi", drift.confidence_psi, thresholds.max_confidence_psi, "top-confidence distribution"),
        ("confidence_drift_ks", drift.confidence_ks, thresholds.max_confidence_ks, "top-confidence distribution"),
    ):
        if value is not None and value > limit:
            statistic = "KS distance" if check.endswith("ks") else "PSI"
            found.append(
                Violation(
                    check,
                    value,
                    limit,
                    f"{what} drifted from the baseline ({drift.baseline_source}): {statistic} {value:.3f} > {limit}",
                )
            )
    return found
