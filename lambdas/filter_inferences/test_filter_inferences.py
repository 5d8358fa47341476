from __future__ import annotations

import json

import pytest

from lambdas.filter_inferences.handler import (
    ConfigurationError,
    InvalidInferencesError,
    MissingKeyError,
    PayloadTooLargeError,
    ThresholdConfidenceNotMet,
    lambda_handler,
)

CONFIDENT = {"s3_bucket": "b", "s3_key": "k.png", "inferences": [0.95, 0.05], "predicted_class": "bicycle"}
UNSURE = {"s3_bucket": "b", "s3_key": "k.png", "inferences": [0.6, 0.4], "predicted_class": "bicycle"}


def test_passes_a_confident_result_on():
    assert lambda_handler(CONFIDENT) == {**CONFIDENT, "confidence": 0.95}


def test_exactly_the_threshold_passes():
    assert lambda_handler({"inferences": [0.93, 0.07]})["confidence"] == 0.93


def test_below_the_threshold_raises_the_named_error_with_the_image():
    with pytest.raises(
        ThresholdConfidenceNotMet,
        match=r"top confidence 0\.6000 \(bicycle\) for s3://b/k\.png is below the threshold 0\.93",
    ):
        lambda_handler(UNSURE)


def test_the_threshold_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("CONFIDENCE_THRESHOLD", "0.5")
    assert lambda_handler(UNSURE)["confidence"] == 0.6
    monkeypatch.setenv("CONFIDENCE_THRESHOLD", "high")
    with pytest.raises(ConfigurationError, match="CONFIDENCE_THRESHOLD='high'"):
        lambda_handler(UNSURE)


def test_accepts_the_original_projects_json_string_and_wrapping():
    original = {"statusCode": 200, "body": {**CONFIDENT, "inferences": json.dumps([0.95, 0.05])}}
    assert lambda_handler(original)["inferences"] == [0.95, 0.05]
    stringified = {"statusCode": 200, "body": json.dumps({**CONFIDENT, "inferences": "[0.97, 0.03]"})}
    assert lambda_handler(stringified)["confidence"] == 0.97


def test_never_evaluates_data(tmp_path):
    marker = tmp_path / "pwned"
    payload = f"__import__('pathlib').Path({str(marker)!r}).touch() or [0.99, 0.01]"
    with pytest.raises(InvalidInferencesError, match="not JSON"):
        lambda_handler({"inferences": payload})
    assert not marker.exists()


def test_missing_inferences():
    with pytest.raises(MissingKeyError, match="inferences"):
        lambda_handler({"s3_key": "k.png"})


@pytest.mark.parametrize("value", [[], [1.5, -0.5], ["0.9"], [True, False], {"a": 1}, "{}", 0.99])
def test_inferences_must_be_probabilities(value):
    with pytest.raises(InvalidInferencesError):
        lambda_handler({"inferences": value})


def test_an_absurdly_long_string_is_refused_before_parsing():
    with pytest.raises(PayloadTooLargeError):
        lambda_handler({"inferences": "[" + "0.0," * 100_000 + "1.0]"})
