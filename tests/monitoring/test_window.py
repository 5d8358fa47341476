from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from scones.monitoring.errors import WindowError
from scones.monitoring.window import Window


def test_partitions_cover_exactly_the_hours_of_the_window():
    window = Window("2026-11-23T09:30:00Z", "2026-11-23T11:00:00Z")
    assert (window.first_partition, window.last_partition) == ("2026/11/23/09", "2026/11/23/10")
    assert [
        window.covers_partition(p) for p in ("2026/11/23/08", "2026/11/23/09", "2026/11/23/10", "2026/11/23/11")
    ] == [False, True, True, False]
    assert Window("2026-11-23T09:30:00Z", "2026-11-23T11:00:01Z").last_partition == "2026/11/23/11"
    day = Window.for_day(date(2026, 12, 31))
    assert len(day.hours()) == 24 and day.last_partition == "2026/12/31/23"
    assert day.end == datetime(2027, 1, 1, tzinfo=UTC)


def test_partition_names_sort_as_their_hours_whatever_the_year():
    ancient = Window("0999-12-31T23:00:00Z", "1000-01-01T01:00:00Z")
    assert (ancient.first_partition, ancient.last_partition) == ("0999/12/31/23", "1000/01/01/00")
    assert ancient.first_partition < "2026/11/23/10", "a StartAfter from here must not skip today's keys"


def test_reports_list_every_hour_of_a_short_window_and_only_hours_with_data_of_a_long_one():
    day = Window.for_day("2026-11-23")
    busy = [datetime(2026, 11, 23, 5, tzinfo=UTC)]
    assert day.report_hours(busy) == day.hours()
    decades = Window("2000-01-01", "2030-01-01")
    assert decades.report_hours(busy + busy) == busy, "a long window costs what it holds, not its 263,000 hours"


def test_bounds_are_normalised_to_utc():
    window = Window("2026-11-23T12:00:00+02:00", "2026-11-23T11:00:00")  # no offset: UTC
    assert window.start == datetime(2026, 11, 23, 10, tzinfo=UTC)
    assert window.to_dict() == {"start": "2026-11-23T10:00:00Z", "end": "2026-11-23T11:00:00Z"}


def test_around_fills_missing_bounds():
    now = datetime(2026, 11, 23, 10, 17, tzinfo=UTC)
    assert Window.around(None, None, now=now).to_dict() == {
        "start": "2026-11-22T11:00:00Z",
        "end": "2026-11-23T11:00:00Z",
    }
    assert Window.around("2026-11-23", None).end == datetime(2026, 11, 24, tzinfo=UTC)


@pytest.mark.parametrize("start, end", [("2026-11-23T10:00:00Z", "2026-11-23T10:00:00Z"), ("tomorrow", "2026-11-23")])
def test_bad_windows_fail_with_a_clear_message(start: str, end: str):
    with pytest.raises(WindowError, match="not after|ISO 8601"):
        Window(start, end)


def test_the_daily_run_covers_the_utc_day_its_interval_starts_in():
    """The DAG runs at 01:00 for the day before: its data interval is 01:00 to 01:00, the report's day is not."""
    from airflow.timetables.interval import CronDataIntervalTimetable

    from scones.localrun.airflow_home import DAGS_FOLDER

    timetable = CronDataIntervalTimetable("0 1 * * *", timezone="UTC")
    assert "0 1 * * *" in (DAGS_FOLDER / "scones_model_monitor.py").read_text()  # the schedule this models
    interval = timetable.infer_manual_data_interval(run_after=datetime(2026, 11, 23, 1, 0, tzinfo=UTC))
    assert interval.start == datetime(2026, 11, 22, 1, 0, tzinfo=UTC)  # 01:00 to 01:00

    window = Window.of_run(interval.start)

    assert window == Window.for_day(date(2026, 11, 22))
    assert (window.first_partition, window.last_partition) == ("2026/11/22/00", "2026/11/22/23")


def test_a_day_asked_for_wins_over_the_interval():
    assert Window.of_run(datetime(2026, 11, 22, 1, 0, tzinfo=UTC), "2026-11-01") == Window.for_day("2026-11-01")
