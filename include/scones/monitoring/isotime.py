"""Vectorised parsing of SageMaker's ``inferenceTime`` strings to epoch microseconds.

SageMaker writes UTC as ``2026-11-23T10:15:02Z`` (sometimes with a fraction, ``...02.123Z``).
Parsing a chunk of them as one fixed-width byte matrix is ~10x cheaper than one ``datetime``
per record; anything else (other offsets, odd widths) goes through ``datetime.fromisoformat``
one by one, so both paths accept the same times.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
_DIGITS = (0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18)  # positions of digits in ...T..:..:..
_FIXED = {4: ord("-"), 7: ord("-"), 10: ord("T"), 13: ord(":"), 16: ord(":")}
_DAYS_BEFORE_MONTH = np.array([0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334], dtype=np.int64)


def parse_one(text: str) -> int | None:
    """One ISO 8601 time with an explicit offset, in microseconds; None if not one."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None  # no offset: ambiguous, so not trusted
    return (moment - _EPOCH) // _US


def parse_times(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Epoch microseconds of each text, and a mask of those that parsed.

    :return: (int64 microseconds, bool ok); where ok is False the time is 0.
    """
    n = len(texts)
    times = np.zeros(n, dtype=np.int64)
    ok = np.zeros(n, dtype=bool)
    if n == 0:
        return times, ok
    fast = _parse_utc_fixed(texts)
    if fast is not None:
        return fast, np.ones(n, dtype=bool)
    for i, text in enumerate(texts):
        value = parse_one(text)
        if value is not None:
            times[i], ok[i] = value, True
    return times, ok


def _parse_utc_fixed(texts: list[str]) -> np.ndarray | None:
    """All texts as ``YYYY-MM-DDTHH:MM:SS[.f...]Z`` of one width, or None to parse one by one."""
    width = len(texts[0])
    if width < 20:
        return None
    joined = "".join(texts).encode()
    if len(joined) != width * len(texts):  # widths differ, or non-ASCII
        return None
    m = np.frombuffer(joined, dtype=np.uint8).reshape(len(texts), width)
    if (m[:, width - 1] != ord("Z")).any():
        return None
    for position, char in _FIXED.items():
        if (m[:, position] != char).any():
            return None
    digits = m[:, list(_DIGITS)].astype(np.int64) - ord("0")
    if ((digits < 0) | (digits > 9)).any():
        return None
    fraction_us = np.zeros(len(texts), dtype=np.int64)
    if width > 20:  # ".f...Z": 1 to 6 fraction digits (more would be sub-microsecond)
        places = width - 21
        if not 1 <= places <= 6 or (m[:, 19] != ord(".")).any():
            return None
        fraction = m[:, 20 : 20 + places].astype(np.int64) - ord("0")
        if ((fraction < 0) | (fraction > 9)).any():
            return None
        fraction_us = (fraction * 10 ** np.arange(places - 1, -1, -1)).sum(axis=1) * 10 ** (6 - places)
    d = digits
    year = d[:, 0] * 1000 + d[:, 1] * 100 + d[:, 2] * 10 + d[:, 3]
    month, day = d[:, 4] * 10 + d[:, 5], d[:, 6] * 10 + d[:, 7]
    hour, minute, second = d[:, 8] * 10 + d[:, 9], d[:, 10] * 10 + d[:, 11], d[:, 12] * 10 + d[:, 13]
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    if ((month < 1) | (month > 12) | (hour > 23) | (minute > 59) | (second > 59) | (year < 1970)).any():
        return None
    month_days = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)[month - 1]
    month_days = month_days + ((month == 2) & leap)
    if ((day < 1) | (day > month_days)).any():
        return None
    y = year - 1
    days = (y * 365 + y // 4 - y // 100 + y // 400) - 719162  # days from 0001-01-01 to 1970-01-01
    days = days + _DAYS_BEFORE_MONTH[month - 1] + ((month > 2) & leap) + day - 1
    seconds = days * 86400 + hour * 3600 + minute * 60 + second
    return seconds * 1_000_000 + fraction_us
