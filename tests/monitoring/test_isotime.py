from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from scones.monitoring.isotime import parse_one, parse_times

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def us(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1)


@pytest.mark.parametrize("places", [0, 1, 3, 6])
def test_vectorised_parse_matches_datetime_on_random_times(places: int):
    rng = random.Random(places)
    moments = [EPOCH + timedelta(microseconds=rng.randrange(0, 130 * 365 * 86400 * 10**6)) for _ in range(3000)]
    moments = [m.replace(microsecond=int(f"{m.microsecond:06d}"[:places].ljust(6, "0"))) for m in moments]
    texts = [
        m.strftime("%Y-%m-%dT%H:%M:%S") + (f".{m.microsecond:06d}"[: places + 1] if places else "") + "Z"
        for m in moments
    ]
    times, ok = parse_times(texts)
    assert ok.all()
    assert times.tolist() == [us(m) for m in moments]


def test_leap_days_and_month_ends():
    texts = ["2028-02-29T23:59:59Z", "2026-12-31T23:59:59Z", "2000-02-29T00:00:00Z", "2026-03-01T00:00:00Z"]
    times, ok = parse_times(texts)
    assert ok.all()
    assert times.tolist() == [us(datetime.fromisoformat(t.replace("Z", "+00:00"))) for t in texts]


def test_invalid_times_are_flagged_and_the_rest_still_parse():
    texts = ["2026-11-23T10:00:00Z", "2026-02-29T10:00:00Z", "2026-11-23T10:00:00", "2026-11-23 10:00:00+01:00", "soon"]
    times, ok = parse_times(texts)
    assert ok.tolist() == [True, False, False, True, False]
    assert times[0] == us(datetime(2026, 11, 23, 10, tzinfo=UTC))
    assert times[3] == us(datetime(2026, 11, 23, 9, tzinfo=UTC))


def test_parse_one_requires_an_offset():
    assert parse_one("2026-11-23T10:00:00") is None
    assert parse_one("2026-11-23T10:00:00z") == us(datetime(2026, 11, 23, 10, tzinfo=UTC))
