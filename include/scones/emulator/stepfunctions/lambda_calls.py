"""The interpreter's Lambda Invoke, in-process instead of over HTTP to ourselves.

A Task state that invokes a Lambda function runs in the emulator's own process, and so does
the Lambda backend it calls. Going through boto3 means serialising the request, an HTTP
round trip over loopback, and moto's server parsing, dispatching and re-serialising it: for
the three-Lambda workflow, three such trips per image, a quarter of the emulator's CPU per
image. :class:`InProcessLambda` has the one method the interpreter calls on its Lambda
client (``invoke``) and answers as that client would: the same response keys, a moto API
error as botocore's ``ClientError`` with its code and HTTP status, so Retry/Catch on
``Lambda.*`` error names work unchanged.
"""

from __future__ import annotations

import io
import os
import uuid
from typing import Any

from botocore.exceptions import ClientError

#: The access key moto's ``boto_client_for`` signs with: the HTTP path's account is the one it maps to.
INTERPRETER_ACCESS_KEY = "ak"


class InProcessLambda:
    """What the interpreter uses of a boto3 Lambda client, served by this process's Lambda backend."""

    def __init__(self, region: str) -> None:
        self.region = region

    def _backend(self) -> Any:
        from moto.awslambda.models import lambda_backends

        return lambda_backends[interpreter_account()][self.region]

    def invoke(
        self,
        FunctionName: str,
        Payload: bytes | str | None = None,
        Qualifier: str | None = None,
        InvocationType: str = "RequestResponse",
        LogType: str = "None",
        ClientContext: str | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        """``lambda:Invoke``'s response, as botocore parses it (``Payload`` a readable stream)."""
        from moto.core.exceptions import JsonRESTError

        headers = {"X-Amz-Invocation-Type": InvocationType, "X-Amz-Log-Type": LogType}
        if ClientContext:
            headers["X-Amz-Client-Context"] = ClientContext
        response_headers: dict[str, str] = {}
        request_id = str(uuid.uuid4())
        try:
            payload = self._backend().invoke(FunctionName, Qualifier, Payload, headers, response_headers)
        except JsonRESTError as exc:  # moto's Lambda API errors: what the server would have answered
            raise client_error("Invoke", exc.error_type, exc.message, exc.code, request_id) from exc
        except Exception as exc:  # the server would answer 500, which the state machines retry
            raise client_error("Invoke", "ServiceException", f"{type(exc).__name__}: {exc}", 500, request_id) from exc
        if payload is None:  # moto's server answers 404 with "{}"
            raise client_error(
                "Invoke", "ResourceNotFoundException", f"Function not found: {FunctionName}", 404, request_id
            )
        if isinstance(payload, str):
            payload = payload.encode("utf-8")
        status = {"Event": 202, "DryRun": 204}.get(InvocationType, 200)
        response: dict[str, Any] = {
            "ResponseMetadata": {"RequestId": request_id, "HTTPStatusCode": status, "HTTPHeaders": response_headers},
            "StatusCode": status,
            "Payload": io.BytesIO(payload),
        }
        if "x-amz-executed-version" in response_headers:
            response["ExecutedVersion"] = response_headers["x-amz-executed-version"]
        if "x-amz-function-error" in response_headers:
            response["FunctionError"] = response_headers["x-amz-function-error"]
        if LogType == "Tail" and "x-amz-log-result" in response_headers:
            response["LogResult"] = response_headers["x-amz-log-result"]
        return response


def interpreter_account() -> str:
    """The account the interpreter's calls act in, as moto's server decides for its HTTP calls
    (``BaseResponse.get_current_account``)."""
    from moto.iam.models import get_account_id_from

    return os.environ.get("MOTO_ACCOUNT_ID") or get_account_id_from(INTERPRETER_ACCESS_KEY)


def client_error(operation: str, code: str, message: str, status: int, request_id: str) -> ClientError:
    """What botocore raises for an API error answer."""
    return ClientError(
        {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"RequestId": request_id, "HTTPStatusCode": status},
        },
        operation,
    )
