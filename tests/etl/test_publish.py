"""The pointer swap: one conditional write, never backwards, never onto an incomplete version."""

from __future__ import annotations

import json

import pytest

from scones.datasets import new_version, publish_version, read_pointer, resolve_dataset
from scones.errors import DatasetNotFound, DestinationError, PublishConflict
from scones.layout import DatasetLayout

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
                s3.put_object(Bucket=TEST_BUCKET, Key=LAYOUT.pointer_key,
                              Body=json.dumps({"version": theirs, "previous": first}).encode())  # fmt: skip

    s3.meta.events.register("provide-client-params.s3.PutObject", before_put)
    pointer = publish_version(s3, LAYOUT, ours)
    assert pointer.version == ours and pointer.previous == theirs
    assert len(conditions) == 3 and all("IfMatch" in c for c in conditions[::2]), conditions


def test_the_first_publish_asks_that_no_pointer_exists(s3):
    seen: list[dict] = []
    s3.meta.events.register("provide-client-params.s3.PutObject", lambda params, **_: seen.append(dict(params)))
    publish_version(s3, LAYOUT, complete(s3))
    assert [p.get("IfNoneMatch") for p in seen if p["Key"] == LAYOUT.pointer_key] == ["*"]


@pytest.mark.parametrize("body", [b"not json {", b"\xff\xfe", b"[1, 2]", b'{"previous": null}', b'{"version": "latest"}',
                                  b'{"version": "20261129T172000.123456Z-1a2b3c4d\\n"}'])  # fmt: skip
def test_a_damaged_pointer_is_a_final_error_that_says_how_to_repair_it(s3, body: bytes):
    """Not a KeyError/ValueError (retried as transient): a DestinationError, which the DAGs do not retry."""
    s3.put_object(Bucket=TEST_BUCKET, Key=LAYOUT.pointer_key, Body=body)
    for call in (lambda: read_pointer(s3, LAYOUT), lambda: resolve_dataset(s3, LAYOUT), lambda: publish_version(s3, LAYOUT, complete(s3))):
        with pytest.raises(DestinationError, match=f"{LAYOUT.pointer_key}.*damaged; delete it and rerun"):
            call()
