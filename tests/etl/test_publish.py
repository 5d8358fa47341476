"""The pointer swap: one conditional write, never backwards, never onto an incomplete version."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from scones import datasets
from scones.datasets import new_version, publish_version, read_pointer, resolve_dataset
from scones.errors import ConfigurationError, DatasetNotFound, DestinationError, PublishConflict
from scones.etl.pipeline import run_etl
from scones.layout import DatasetLayout
from scones.s3retry import is_transient

from .conftest import TEST_BUCKET

LAYOUT = DatasetLayout(TEST_BUCKET, "datasets/pointer")


def complete(s3) -> str:
    version = new_version()
    s3.put_object(Bucket=TEST_BUCKET, Key=LAYOUT.labels_key(version), Body=json.dumps({"classes": ["a", "b"]}).encode())
    return version


def test_an_older_version_never_replaces_a_newer_one(s3):
    older, newer = complete(s3), complete(s3)
    publish_version(s3, LAYOUT, newer)
    with pytest.raises(PublishConflict, match=f"{newer} was published"):
        publish_version(s3, LAYOUT, older)
    assert read_pointer(s3, LAYOUT).version == newer


def test_an_incomplete_version_is_never_published(s3):
    version = new_version()
    s3.put_object(Bucket=TEST_BUCKET, Key=LAYOUT.key(version, "train/a/x.png"), Body=b"png")  # no labels.json yet
    with pytest.raises(DatasetNotFound, match="not complete"):
        publish_version(s3, LAYOUT, version)
    assert read_pointer(s3, LAYOUT) is None


def test_a_swap_raced_by_another_publisher_is_redone_on_the_new_state(s3):
    """Between our read and our write another run publishes: our If-Match fails, we read again."""
    first, theirs, ours = complete(s3), complete(s3), complete(s3)
    publish_version(s3, LAYOUT, first)
    conditions: list[dict] = []
    raced = []

    def before_put(params, **_):
        if params["Key"] == LAYOUT.pointer_key:
            conditions.append({k: v for k, v in params.items() if k in ("IfMatch", "IfNoneMatch")})
            if not raced:  # the other run's write lands just before ours
                raced.append(True)
                s3.put_object(
                    Bucket=TEST_BUCKET,
                    Key=LAYOUT.pointer_key,
                    Body=json.dumps({"version": theirs, "previous": first}).encode(),
                )

    s3.meta.events.register("provide-client-params.s3.PutObject", before_put)
    pointer = publish_version(s3, LAYOUT, ours)
    assert pointer.version == ours and pointer.previous == theirs
    assert len(conditions) == 3 and all("IfMatch" in c for c in conditions[::2]), conditions


def test_the_first_publish_asks_that_no_pointer_exists(s3):
    seen: list[dict] = []
    s3.meta.events.register("provide-client-params.s3.PutObject", lambda params, **_: seen.append(dict(params)))
    publish_version(s3, LAYOUT, complete(s3))
    assert [p.get("IfNoneMatch") for p in seen if p["Key"] == LAYOUT.pointer_key] == ["*"]


@pytest.mark.parametrize(
    "body",
    [
        b"not json {",
        b"\xff\xfe",
        b"[1, 2]",
        b'{"previous": null}',
        b'{"version": "latest"}',
        b'{"version": "20261129T172000.123456Z-1a2b3c4d\\n"}',
    ],
)
def test_a_damaged_pointer_is_a_final_error_that_says_how_to_repair_it(s3, body: bytes):
    """Not a KeyError/ValueError (retried as transient): a DestinationError, which the DAGs do not retry."""
    s3.put_object(Bucket=TEST_BUCKET, Key=LAYOUT.pointer_key, Body=body)
    for call in (
        lambda: read_pointer(s3, LAYOUT),
        lambda: resolve_dataset(s3, LAYOUT),
        lambda: publish_version(s3, LAYOUT, complete(s3)),
    ):
        with pytest.raises(DestinationError, match=f"{LAYOUT.pointer_key}.*damaged; delete it and rerun"):
            call()


# -- clocks: version names order publishes, so they come from S3's clock, not the worker's -----


class FastClock(datetime):
    """A worker whose clock runs an hour ahead."""

    @classmethod
    def now(cls, tz=None):
        return datetime.now(tz) + timedelta(hours=1)


def s3_sends_its_date(s3) -> None:
    """Real S3 (and the emulator) send a Date header; in-process moto does not, so add S3's (the true) time."""

    def add_date(response_dict, **_):
        response_dict["headers"]["date"] = format_datetime(datetime.now(UTC), usegmt=True)

    s3.meta.events.register("before-parse.s3.HeadBucket", add_date)


def test_a_worker_whose_clock_runs_ahead_does_not_block_the_runs_after_it(
    s3, monkeypatch, cifar_all_classes: Path, tmp_path: Path
):
    s3_sends_its_date(s3)
    monkeypatch.setattr(datasets, "datetime", FastClock)
    fast = run_etl(
        s3, source=str(cifar_all_classes), classes=["bicycle", "motorcycle"], dataset_uri=LAYOUT.uri, cache_dir=tmp_path
    )
    monkeypatch.undo()
    correct = run_etl(
        s3, source=str(cifar_all_classes), classes=["bicycle", "motorcycle"], dataset_uri=LAYOUT.uri, cache_dir=tmp_path
    )
    assert read_pointer(s3, LAYOUT).version == correct.version  # it used to fail with PublishConflict for an hour
    assert abs(datasets.version_time(fast.version) - datetime.now(UTC)) < timedelta(minutes=1), "named by S3's clock"


def test_a_version_named_by_a_fast_clock_is_not_published_and_one_published_before_is_replaced(s3):
    future = new_version(datetime.now(UTC) + timedelta(hours=1))
    s3.put_object(Bucket=TEST_BUCKET, Key=LAYOUT.labels_key(future), Body=json.dumps({"classes": ["a", "b"]}).encode())
    with pytest.raises(ConfigurationError, match="ahead of S3's clock"):
        publish_version(s3, LAYOUT, future)
    assert read_pointer(s3, LAYOUT) is None
    # What an older release published from a fast clock: a correct run replaces it instead of failing until it is due.
    s3.put_object(Bucket=TEST_BUCKET, Key=LAYOUT.pointer_key, Body=json.dumps({"version": future}).encode())
    now = complete(s3)
    assert publish_version(s3, LAYOUT, now).previous == future
    assert read_pointer(s3, LAYOUT).version == now


def test_a_store_without_conditional_writes_is_told_so_at_once_not_retried(s3, monkeypatch):
    """A 501 NotImplemented is no outage: waiting never implements If-Match (it used to be retried as a 5xx)."""
    monkeypatch.setattr("scones.s3retry.time.sleep", lambda s: None)
    attempts = []

    def refuse_conditions(params, **_):
        if params["Key"] == LAYOUT.pointer_key and ("IfMatch" in params or "IfNoneMatch" in params):
            attempts.append(1)
            raise ClientError(
                {
                    "Error": {
                        "Code": "NotImplemented",
                        "Message": "A header you provided implies functionality that is not implemented",
                    },
                    "ResponseMetadata": {"HTTPStatusCode": 501},
                },
                "PutObject",
            )

    s3.meta.events.register("provide-client-params.s3.PutObject", refuse_conditions)
    with pytest.raises(DestinationError, match="supports conditional writes") as raised:
        publish_version(s3, LAYOUT, complete(s3))
    assert len(attempts) == 1 and not is_transient(raised.value.__cause__)
    assert read_pointer(s3, LAYOUT) is None


def test_a_publish_whose_answer_was_lost_then_superseded_says_so(s3, monkeypatch):
    """Our write commits, its response is lost, a newer run publishes: we were current for a moment."""
    monkeypatch.setattr("scones.s3retry.time.sleep", lambda s: None)
    ours, newer = complete(s3), complete(s3)
    keys: list[str] = []  # the key of each PutObject in flight (after-call does not get the params)
    lost: list[bool] = []

    def lose_the_answer(**_):
        if keys.pop() == LAYOUT.pointer_key and len(keys) == 0 and not lost:
            lost.append(True)
            s3.put_object(
                Bucket=TEST_BUCKET,
                Key=LAYOUT.pointer_key,
                Body=json.dumps({"version": newer, "previous": ours}).encode(),
            )
            raise EndpointConnectionError(endpoint_url="http://s3")

    s3.meta.events.register("provide-client-params.s3.PutObject", lambda params, **_: keys.append(params["Key"]))
    s3.meta.events.register("after-call.s3.PutObject", lose_the_answer)
    with pytest.raises(PublishConflict, match=f"{ours} was published at .*, then superseded by {newer}"):
        publish_version(s3, LAYOUT, ours)
    assert read_pointer(s3, LAYOUT).version == newer


def test_the_dags_publish_announces_the_version_it_made_current(s3):
    from scones.etl.pipeline import publish_staged

    older, version = complete(s3), complete(s3)
    counts = {"train": {"a": 2, "b": 2}, "validation": {"a": 1, "b": 1}}
    staged = {
        "dataset_uri": LAYOUT.uri,
        "version": version,
        "version_uri": LAYOUT.version_uri(version),
        "classes": ["a", "b"],
        "counts": counts,
        "uploaded": 6,
        "seconds": {},
    }  # what stage's XCom holds
    summary = publish_staged(s3, staged)
    assert summary == {
        "dataset_uri": LAYOUT.uri,
        "dataset_version": version,
        "version_uri": LAYOUT.version_uri(version),
        "classes": ["a", "b"],
        "counts": counts,
        "pointer": LAYOUT.pointer_key,
    }
    assert read_pointer(s3, LAYOUT).version == version and json.loads(json.dumps(summary)) == summary
    with pytest.raises(PublishConflict):  # a newer version is current: the older one is not announced
        publish_staged(s3, {**staged, "version": older, "version_uri": LAYOUT.version_uri(older)})
    assert read_pointer(s3, LAYOUT).version == version
