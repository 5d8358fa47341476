from __future__ import annotations

import base64
import io
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from lambdas.classify_image import handler
from lambdas.classify_image.handler import (
    EndpointError,
    InvalidImageError,
    MissingKeyError,
    PayloadTooLargeError,
    lambda_handler,
)
from lambdas.conftest import png_bytes

TEST_EVENT = {"image_data": base64.b64encode(png_bytes()).decode(), "s3_bucket": "b", "s3_key": "k.png"}


def streamed(text: str) -> StreamingBody:
    data = text.encode()
    return StreamingBody(io.BytesIO(data), len(data))


@contextmanager
def endpoint_answers(*bodies: object) -> Iterator[Stubber]:
    """The endpoint's next answers. Stubbed: moto's sagemaker-runtime cannot take a binary body."""
    with Stubber(handler.runtime_client()) as stub:
        for body in bodies:
            stub.add_response(
                "invoke_endpoint", {"Body": streamed(body if isinstance(body, str) else json.dumps(body))}
            )
        yield stub
        stub.assert_no_pending_responses()


@pytest.fixture
def endpoint(monkeypatch):
    monkeypatch.setenv("CLASS_NAMES", "bicycle,motorcycle")


def test_classifies_with_the_endpoints_probabilities(endpoint):
    with endpoint_answers([0.08, 0.92]):
        result = lambda_handler(TEST_EVENT)
    assert result == {
        "s3_bucket": "b",
        "s3_key": "k.png",
        "inferences": [0.08, 0.92],
        "predicted_label": 1,
        "predicted_class": "motorcycle",
        "confidence": 0.92,
    }
    assert "image_data" not in result  # not passed on: the state carries at most 256 KiB


def test_sends_the_png_to_the_named_endpoint(endpoint, monkeypatch):
    monkeypatch.setenv("ENDPOINT_NAME", "other-endpoint")
    client = handler.runtime_client()
    with Stubber(client) as stub:
        stub.add_response(
            "invoke_endpoint",
            {"Body": streamed("[1.0, 0.0]")},
            {
                "EndpointName": "other-endpoint",
                "ContentType": "image/png",
                "Accept": "application/json",
                "Body": base64.b64decode(TEST_EVENT["image_data"]),
            },
        )
        assert lambda_handler(TEST_EVENT)["predicted_class"] == "bicycle"
        stub.assert_no_pending_responses()


def test_accepts_the_original_projects_wrapped_event(endpoint):
    with endpoint_answers([0.99, 0.01]):
        assert lambda_handler({"statusCode": 200, "body": TEST_EVENT})["predicted_class"] == "bicycle"


def test_without_class_names_the_class_is_the_label(s3):
    with endpoint_answers([0.2, 0.3, 0.5]):
        assert lambda_handler(TEST_EVENT)["predicted_class"] == "2"


@pytest.mark.parametrize("event", [{}, {"image_data": ""}, {"image_data": None}, "text"])
def test_missing_image_data(endpoint, event):
    with pytest.raises(MissingKeyError, match="image_data"):
        lambda_handler(event)


def test_bad_base64_and_non_images(endpoint):
    with pytest.raises(InvalidImageError, match="not valid base64"):
        lambda_handler({"image_data": "***not base64***"})
    with pytest.raises(InvalidImageError, match="not a PNG or JPEG"):
        lambda_handler({"image_data": base64.b64encode(b"GIF89a....").decode()})


def test_oversized_image_is_refused_before_decoding(endpoint):
    with pytest.raises(PayloadTooLargeError, match="at most 6000000 bytes"):
        lambda_handler({"image_data": "A" * 8_100_000})


def test_a_missing_endpoint_is_an_endpoint_error_naming_it(endpoint):
    with Stubber(handler.runtime_client()) as stub:
        stub.add_client_error(
            "invoke_endpoint",
            service_error_code="ValidationException",
            service_message="Endpoint scones-endpoint of account 123456789012 not found.",
        )
        with pytest.raises(
            EndpointError, match="'scones-endpoint' failed: ValidationException: Endpoint scones-endpoint"
        ):
            lambda_handler(TEST_EVENT)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("not json", "not JSON"),
        ({"predictions": [1]}, "not a list"),
        ([], "not a list"),
        (["0.5", "0.5"], "not a list"),
        ([0.1, 0.2, 0.7], "returned 3 probabilities but CLASS_NAMES names 2"),
    ],
)
def test_answers_that_are_not_probabilities_are_endpoint_errors(endpoint, body, message):
    with endpoint_answers(body), pytest.raises(EndpointError, match=message):
        lambda_handler(TEST_EVENT)


@pytest.fixture
def silent_endpoint(monkeypatch) -> Iterator[None]:
    """An endpoint URL that accepts connections and never answers (a hung model)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{server.getsockname()[1]}")
    yield
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    server.close()


def test_a_hung_endpoint_fails_as_endpoint_error_within_its_time(endpoint, silent_endpoint, monkeypatch):
    """Past the function's timeout Lambda would kill it and the workflow see Sandbox.Timedout."""
    monkeypatch.setenv("ENDPOINT_TIMEOUT_SECONDS", "2")
    started = time.monotonic()
    with pytest.raises(EndpointError, match="could not be reached"):
        lambda_handler(TEST_EVENT)
    assert time.monotonic() - started < 3.5  # two attempts of 1 s each, and nothing else waits
