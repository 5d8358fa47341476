from __future__ import annotations

import base64

import pytest
from botocore.exceptions import ClientError

from lambdas.conftest import TEST_BUCKET, png_bytes
from lambdas.serialize_image_data.handler import (
    ImageNotFoundError,
    InvalidImageError,
    MissingKeyError,
    PayloadTooLargeError,
    lambda_handler,
    s3_client,
)

TEST_KEY = "datasets/cifar100-vehicles/validation/bicycle/bicycle_s_000017.png"


def test_returns_the_image_base64_with_its_location(s3):
    image = png_bytes()
    s3.put_object(Bucket=TEST_BUCKET, Key=TEST_KEY, Body=image)

    result = lambda_handler({"s3_bucket": TEST_BUCKET, "s3_key": TEST_KEY})

    assert base64.b64decode(result["image_data"]) == image
    assert result == {**result, "s3_bucket": TEST_BUCKET, "s3_key": TEST_KEY, "content_type": "image/png"}


def test_accepts_the_original_projects_event(s3):
    s3.put_object(Bucket=TEST_BUCKET, Key=TEST_KEY, Body=png_bytes())
    result = lambda_handler({"image_data": "", "s3_bucket": TEST_BUCKET, "s3_key": TEST_KEY})
    assert result["image_data"]


def test_jpeg_is_an_image_too(s3):
    s3.put_object(Bucket=TEST_BUCKET, Key="a.jpg", Body=b"\xff\xd8\xff\xe0" + b"\x00" * 20)
    assert lambda_handler({"s3_bucket": TEST_BUCKET, "s3_key": "a.jpg"})["content_type"] == "image/jpeg"


@pytest.mark.parametrize(
    "event",
    [
        {"s3_bucket": TEST_BUCKET},
        {"s3_key": TEST_KEY},
        {"s3_bucket": "", "s3_key": TEST_KEY},
        {"s3_bucket": TEST_BUCKET, "s3_key": 7},
        ["not", "an", "object"],
    ],
    ids=["no-key", "no-bucket", "empty-bucket", "key-not-a-string", "not-an-object"],
)
def test_missing_keys_are_named(s3, event):
    with pytest.raises(MissingKeyError, match="s3_"):
        lambda_handler(event)


def test_a_missing_object_says_which(s3):
    with pytest.raises(ImageNotFoundError, match=f"s3://{TEST_BUCKET}/nope.png does not exist"):
        lambda_handler({"s3_bucket": TEST_BUCKET, "s3_key": "nope.png"})


def test_a_missing_bucket_is_not_found_too(s3):
    with pytest.raises(ImageNotFoundError, match="s3://no-such-bucket-here/"):
        lambda_handler({"s3_bucket": "no-such-bucket-here", "s3_key": TEST_KEY})


def test_a_non_image_is_refused(s3):
    s3.put_object(Bucket=TEST_BUCKET, Key="notes.txt", Body=b"hello, not a picture")
    with pytest.raises(InvalidImageError, match="not a PNG or JPEG"):
        lambda_handler({"s3_bucket": TEST_BUCKET, "s3_key": "notes.txt"})


def test_an_oversized_object_is_refused_before_reading(s3, monkeypatch):
    monkeypatch.setenv("MAX_IMAGE_BYTES", "1000")
    s3.put_object(Bucket=TEST_BUCKET, Key="big.png", Body=png_bytes() + b"\x00" * 2000)
    with pytest.raises(PayloadTooLargeError, match="at most 1000"):
        lambda_handler({"s3_bucket": TEST_BUCKET, "s3_key": "big.png"})


def refuse(client, operation: str, monkeypatch) -> None:
    """Make the function's S3 client answer ``operation`` with 403 AccessDenied, as S3 does."""

    def denied(**_):
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "Access Denied"}}, operation)

    monkeypatch.setattr(client, {"GetObject": "get_object", "ListObjectsV2": "list_objects_v2"}[operation], denied)


def test_a_missing_object_answered_403_is_not_found(s3, monkeypatch):
    """S3 hides a missing key behind 403 from a role that may list only under a prefix."""
    s3.put_object(Bucket=TEST_BUCKET, Key=TEST_KEY + ".bak", Body=png_bytes())  # the same prefix, another key
    refuse(s3_client(), "GetObject", monkeypatch)
    with pytest.raises(ImageNotFoundError, match=f"s3://{TEST_BUCKET}/{TEST_KEY} does not exist .AccessDenied"):
        lambda_handler({"s3_bucket": TEST_BUCKET, "s3_key": TEST_KEY})


def test_an_existing_object_refused_stays_access_denied(s3, monkeypatch):
    s3.put_object(Bucket=TEST_BUCKET, Key=TEST_KEY, Body=png_bytes())
    refuse(s3_client(), "GetObject", monkeypatch)
    with pytest.raises(ClientError, match="AccessDenied"):
        lambda_handler({"s3_bucket": TEST_BUCKET, "s3_key": TEST_KEY})


def test_a_refusal_we_cannot_tell_from_missing_stays_access_denied(s3, monkeypatch):
    """Outside the images prefix the listing is refused too: the object may well exist."""
    client = s3_client()
    refuse(client, "GetObject", monkeypatch)
    refuse(client, "ListObjectsV2", monkeypatch)
    with pytest.raises(ClientError, match="AccessDenied"):
        lambda_handler({"s3_bucket": TEST_BUCKET, "s3_key": "elsewhere/a.png"})
