"""Errors the local Lambda executor returns as Lambda API errors (one class per error code).

LambdaClientError (moto)
├── InvalidRequestContentException   the payload is not JSON
├── RequestTooLargeException         the payload is over Lambda's limit (6 MB; 1 MB for Event)
├── InvalidZipFileException          the code is not a readable .zip
├── UnsupportedFunction              not a python .zip function (or one with layers): cannot run locally
└── TooManyRequestsException         the function's reserved concurrency is in use (429)
"""

from __future__ import annotations

from moto.awslambda.exceptions import LambdaClientError


class InvalidRequestContentException(LambdaClientError):
    code = 400

    def __init__(self, message: str) -> None:
        super().__init__("InvalidRequestContentException", message)


class RequestTooLargeException(LambdaClientError):
    code = 413

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(
            "RequestTooLargeException",
            f"Request must be smaller than {limit} bytes for the InvokeFunction operation (got {size}).",
        )


class InvalidZipFileException(LambdaClientError):
    code = 400

    def __init__(self, function_name: str, reason: str) -> None:
        super().__init__(
            "InvalidZipFileException",
            f"Could not unzip the code of function {function_name} ({reason}). "
            "Upload a valid .zip with UpdateFunctionCode.",
        )


class UnsupportedFunction(LambdaClientError):
    """Real Lambda answers 502 InvalidRuntimeException for a runtime it cannot run; we answer
    400, because SDKs retry a 5xx and this will not get better by retrying."""

    code = 400

    def __init__(self, message: str) -> None:
        super().__init__("InvalidRuntimeException", message)


class TooManyRequestsException(LambdaClientError):
    """Lambda's throttle for a function whose reserved concurrency is taken (0 = every invocation)."""

    code = 429

    def __init__(self, function_name: str, reserved: int) -> None:
        super().__init__(
            "TooManyRequestsException",
            f"Rate Exceeded. Function {function_name} has reserved concurrency {reserved} and it is in use.",
        )
