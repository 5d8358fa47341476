from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from scones.monitoring.errors import CaptureSourceError
from scones.monitoring.sources import local_capture_files, s3_capture_objects, variant_prefixes
from scones.monitoring.window import Window

from .conftest import CAPTURE_PREFIX, TEST_BUCKET, TEST_ENDPOINT, capture_line, partition_key, put_lines, write_lines

WINDOW = Window("2026-11-23T10:00:00Z", "2026-11-23T12:00:00Z")
HOURS = ["2026-11-23T09:59:59Z", "2026-11-23T10:00:00Z", "2026-11-23T11:30:00Z", "2026-11-23T12:00:00Z"]


def record_list_calls(s3) -> list[dict]:
    calls: list[dict] = []
    s3.meta.events.register("before-parameter-build.s3.ListObjectsV2", lambda params, **_: calls.append(dict(params)))
    return calls


@pytest.fixture
def capture(s3):
    for when in HOURS:
        put_lines(s3, f"{CAPTURE_PREFIX}/{partition_key(when)}", [capture_line([0.9, 0.1], when)])
    # Another variant and a non-capture object: the variant is read, the other file is not.
    put_lines(s3, f"{CAPTURE_PREFIX}/{partition_key(HOURS[2], variant='Canary')}", [capture_line([0.9, 0.1], HOURS[2])])
    s3.put_object(Bucket=TEST_BUCKET, Key=f"{CAPTURE_PREFIX}/{partition_key(HOURS[2], name='notes.txt')}", Body=b"x")
    return s3


@pytest.mark.parametrize("uri_tail", ["", f"/{TEST_ENDPOINT}", f"/{TEST_ENDPOINT}/AllTraffic"])
def test_s3_lists_only_the_windows_partitions(capture, uri_tail: str):
    calls = record_list_calls(capture)
    found = s3_capture_objects(capture, f"s3://{TEST_BUCKET}/{CAPTURE_PREFIX}{uri_tail}", WINDOW)
    hours = {key.location.split("/")[-2] for key in found}
    assert hours == {"10", "11"}, "09 and 12 are outside [10:00, 12:00)"
    variants = {key.location.split("/")[2] for key in found}
    assert variants == ({"AllTraffic"} if uri_tail.endswith("AllTraffic") else {"AllTraffic", "Canary"})
    assert all(key.location.endswith(".jsonl") for key in found)
    # Never a listing of a whole variant's history: object listings start at the window's
    # first partition; anything broader uses a delimiter (folder names only).
    for call in calls:
        assert "Delimiter" in call or call["StartAfter"] == f"{call['Prefix']}2026/11/23/10", call


def test_a_long_window_costs_what_it_holds_not_its_length(capture):
    calls = record_list_calls(capture)
    found = s3_capture_objects(capture, f"s3://{TEST_BUCKET}/{CAPTURE_PREFIX}", Window("2000-01-01", "2030-01-01"))
    assert len(found) == 5, "every capture file of both variants, the notes file left out"
    object_listings = [c for c in calls if "Delimiter" not in c]
    assert len(object_listings) == 2, "one listing per variant, not one per hour of 30 years"


def test_the_listing_stops_at_the_first_key_past_the_window(s3):
    for day in range(1, 29):  # four weeks of capture, one file a day, 1000 keys a page
        when = f"2026-11-{day:02d}T10:00:00Z"
        put_lines(s3, f"{CAPTURE_PREFIX}/{partition_key(when)}", [capture_line([0.9, 0.1], when)])
    calls = record_list_calls(s3)
    pages: list[int] = []
    s3.meta.events.register(
        "after-call.s3.ListObjectsV2", lambda parsed, **_: pages.append(len(parsed.get("Contents", [])))
    )
    uri = f"s3://{TEST_BUCKET}/{CAPTURE_PREFIX}/{TEST_ENDPOINT}/AllTraffic"
    found = s3_capture_objects(s3, uri, Window("2026-11-10", "2026-11-12"))
    assert [o.location.split("/")[-3] for o in found] == ["10", "11"]
    assert len(calls) == 2 and pages[-1] == 28 - 9, "starts at the window: the 9 earlier days are never listed"


def test_variant_discovery_stops_at_year_folders(capture):
    assert variant_prefixes(capture, TEST_BUCKET, CAPTURE_PREFIX) == [
        f"{CAPTURE_PREFIX}/{TEST_ENDPOINT}/AllTraffic/",
        f"{CAPTURE_PREFIX}/{TEST_ENDPOINT}/Canary/",
    ]


def test_a_folder_ending_in_a_newline_is_not_a_year(capture):
    put_lines(
        capture, f"{CAPTURE_PREFIX}/{TEST_ENDPOINT}/Odd/2026\n/11/23/10/x.jsonl", [capture_line([0.9, 0.1], HOURS[1])]
    )
    assert f"{CAPTURE_PREFIX}/{TEST_ENDPOINT}/Odd/" not in variant_prefixes(capture, TEST_BUCKET, CAPTURE_PREFIX)


def test_an_empty_prefix_is_an_empty_window(s3):
    assert s3_capture_objects(s3, f"s3://{TEST_BUCKET}/{CAPTURE_PREFIX}/nothing-here", WINDOW) == []


def test_a_missing_bucket_says_what_to_check():
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        with pytest.raises(CaptureSourceError, match="NoSuchBucket.*SCONES_BUCKET"):
            s3_capture_objects(s3, "s3://no-such-bucket/data_capture", WINDOW)


@pytest.mark.parametrize("uri", ["bucket/prefix", "s3://", "s3:///key"])
def test_malformed_s3_uris_are_rejected(s3, uri: str):
    with pytest.raises(CaptureSourceError, match="s3://bucket/prefix"):
        s3_capture_objects(s3, uri, WINDOW)


def test_local_folder_is_searched_recursively_and_pruned_by_partition(tmp_path: Path):
    for when in HOURS:
        write_lines(tmp_path / partition_key(when), [capture_line([0.9, 0.1], when)])
    write_lines(tmp_path / "loose" / "extra.jsonl", [capture_line([0.9, 0.1], HOURS[0])])
    (tmp_path / "readme.txt").write_text("not capture")
    found = [Path(o.location).relative_to(tmp_path).as_posix() for o in local_capture_files(tmp_path, WINDOW)]
    assert found == ["loose/extra.jsonl", partition_key(HOURS[1]), partition_key(HOURS[2])]
    assert len(local_capture_files(tmp_path)) == 5, "no window: every .jsonl"


def test_a_missing_local_folder_is_a_clear_error(tmp_path: Path):
    with pytest.raises(CaptureSourceError, match="does not exist"):
        local_capture_files(tmp_path / "nope")


def test_a_single_file_can_be_named(tmp_path: Path):
    path = write_lines(tmp_path / "one.txt", [capture_line([0.9, 0.1], HOURS[0])])
    assert [o.location for o in local_capture_files(path, WINDOW)] == [str(path)]
