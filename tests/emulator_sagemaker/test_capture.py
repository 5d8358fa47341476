"""Data capture: SageMaker's key layout and record format, sampling, nothing lost under concurrency."""

from __future__ import annotations

import base64
import json
import re
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.emulator_sagemaker.cifar_subset import png
from tests.emulator_sagemaker.conftest import endpoint_config, in_service, unique

CAPTURE_KEY = re.compile(
    r"(?P<endpoint>[^/]+)/(?P<variant>[^/]+)/\d{4}/\d{2}/\d{2}/\d{2}/\d{2}-\d{2}-\d{3}-[0-9a-f-]{36}\.jsonl"
)
INFERENCE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


def capture_config(
    bucket: str,
    prefix: str,
    percentage: int = 100,
    modes: tuple[str, ...] = ("Input", "Output"),
    json_types: tuple[str, ...] | None = ("application/json",),
) -> dict:
    config = {
        "EnableCapture": True,
        "InitialSamplingPercentage": percentage,
        "DestinationS3Uri": f"s3://{bucket}/{prefix}",
        "CaptureOptions": [{"CaptureMode": mode} for mode in modes],
    }
    if json_types is not None:
        config["CaptureContentTypeHeader"] = {"JsonContentTypes": list(json_types)}
    return config


def flush(emulator) -> dict[str, int]:
    answer = requests.post(f"{emulator.endpoint_url}/moto-api/sagemaker/capture/flush", timeout=30)
    answer.raise_for_status()
    return answer.json()


def captured(s3, bucket: str, prefix: str) -> dict[str, list[dict]]:
    """``{key relative to the destination: records}``."""
    files = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix + "/"):
        for item in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read().decode()
            assert body.endswith("\n")
            files[item["Key"][len(prefix) + 1 :]] = [json.loads(line) for line in body.splitlines()]
    return files


def capturing_endpoint(sm, model_name: str, capture: dict) -> str:
    name = unique("bikes-capture")
    sm.create_endpoint(EndpointName=name, EndpointConfigName=endpoint_config(sm, model_name, capture=capture))
    described = in_service(sm, name)
    assert described["DataCaptureConfig"]["CaptureStatus"] == "Started"
    assert described["DataCaptureConfig"]["CurrentSamplingPercentage"] == capture["InitialSamplingPercentage"]
    return name


def test_every_request_captured_in_sagemaker_format_under_concurrency(
    emulator, sm, s3, runtime, model_name, small_dataset
) -> None:
    prefix = f"capture/{unique('all')}"
    endpoint = capturing_endpoint(sm, model_name, capture_config(small_dataset.bucket, prefix))
    bodies = [png(image) for image in small_dataset.validation.images]  # 40 distinct PNGs

    def invoke(body: bytes) -> tuple[bytes, bytes]:
        return body, runtime.invoke_endpoint(EndpointName=endpoint, ContentType="image/png", Body=body)["Body"].read()

    with ThreadPoolExecutor(8) as pool:
        answers = dict(pool.map(invoke, bodies * 3))  # 120 requests, 8 at a time
    flush(emulator)
    files = captured(s3, small_dataset.bucket, prefix)
    records = [record for lines in files.values() for record in lines]
    assert len(records) == 3 * len(bodies)  # nothing lost
    for key in files:
        match = CAPTURE_KEY.fullmatch(key)
        assert match and match["endpoint"] == endpoint and match["variant"] == "AllTraffic", key
    assert len({r["eventMetadata"]["eventId"] for r in records}) == len(records)
    for record in records:
        assert set(record) == {"captureData", "eventMetadata", "eventVersion"} and record["eventVersion"] == "0"
        request, response = record["captureData"]["endpointInput"], record["captureData"]["endpointOutput"]
        assert request["observedContentType"] == "image/png" and request["mode"] == "INPUT"
        assert request["encoding"] == "BASE64"
        body = base64.b64decode(request["data"])
        assert response == {
            "observedContentType": "application/json",
            "mode": "OUTPUT",
            "data": answers[body].decode(),
            "encoding": "JSON",
        }
        assert INFERENCE_TIME.fullmatch(record["eventMetadata"]["inferenceTime"])


def test_sampling_captures_exactly_the_sampled_requests(emulator, sm, s3, runtime, model_name, small_dataset) -> None:
    prefix = f"capture/{unique('half')}"
    endpoint = capturing_endpoint(sm, model_name, capture_config(small_dataset.bucket, prefix, percentage=50))
    before = flush(emulator)
    body = png(small_dataset.validation.images[0])
    with ThreadPoolExecutor(6) as pool:
        list(
            pool.map(
                lambda _: runtime.invoke_endpoint(EndpointName=endpoint, ContentType="image/png", Body=body), range(120)
            )
        )
    after = flush(emulator)
    sampled = after["sampled"] - before["sampled"]
    written = sum(len(lines) for lines in captured(s3, small_dataset.bucket, prefix).values())
    assert written == sampled  # nothing lost, nothing invented
    assert 20 < written < 100  # ~60 of 120: 50% sampling (outside this range: p < 1e-8)
    assert after["captured"] == after["sampled"]


def test_capture_options_and_default_encoding(emulator, sm, s3, runtime, model_name, small_dataset) -> None:
    prefix = f"capture/{unique('output')}"
    config = capture_config(small_dataset.bucket, prefix, modes=("Output",), json_types=None)
    endpoint = capturing_endpoint(sm, model_name, config)
    answer = runtime.invoke_endpoint(
        EndpointName=endpoint,
        ContentType="image/png",
        Body=png(small_dataset.validation.images[1]),
        InferenceId="request-42",
    )["Body"].read()
    flush(emulator)
    (record,) = [r for lines in captured(s3, small_dataset.bucket, prefix).values() for r in lines]
    assert set(record["captureData"]) == {"endpointOutput"}  # CaptureOptions: Output only
    output = record["captureData"]["endpointOutput"]
    # No CaptureContentTypeHeader: SageMaker base64-encodes everything.
    assert output["encoding"] == "BASE64" and base64.b64decode(output["data"]) == answer
    assert record["eventMetadata"]["inferenceId"] == "request-42"


def test_no_capture_without_data_capture_config(emulator, s3, runtime, endpoint, small_dataset) -> None:
    before = flush(emulator)
    runtime.invoke_endpoint(
        EndpointName=endpoint, ContentType="image/png", Body=png(small_dataset.validation.images[0])
    )
    assert flush(emulator)["sampled"] == before["sampled"]


@pytest.mark.parametrize("bad", [{"InitialSamplingPercentage": 150}, {"CaptureOptions": [{"CaptureMode": "Sideways"}]}])
def test_an_invalid_capture_config_fails_the_endpoint(sm, model_name, small_dataset, bad) -> None:
    from tests.emulator_sagemaker.conftest import wait_for

    config = {**capture_config(small_dataset.bucket, "capture/invalid"), **bad}
    name = unique("bikes-bad-capture")
    try:
        sm.create_endpoint(EndpointName=name, EndpointConfigName=endpoint_config(sm, model_name, capture=config))
    except sm.exceptions.ClientError as error:  # refused up front is as good as failing
        assert error.response["Error"]["Code"] == "ValidationException"
        return
    failed = wait_for(lambda: (d := sm.describe_endpoint(EndpointName=name))["EndpointStatus"] != "Creating" and d)
    assert failed["EndpointStatus"] == "Failed" and "DataCaptureConfig" in failed["FailureReason"]
