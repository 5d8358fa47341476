"""The interpreter's SNS Publish, in-process instead of over HTTP to ourselves.

The workflow's alert on a failed image is an ``arn:aws:states:::sns:publish`` Task. Through
boto3 it cost a request's serialisation, a loopback round trip and moto's server parsing it
again: about 5 ms of the emulator's CPU per alert, on the same GIL that runs every
execution. :class:`InProcessSns` answers ``publish`` from this process's SNS backend, with
the checks and attribute conversion moto's server applies, and raises its errors as botocore's
``ClientError`` (so Catch on ``SNS.NotFoundException`` etc. works unchanged). Any other SNS
call the interpreter makes goes to the HTTP client it wraps.
"""

from __future__ import annotations

import uuid
from typing import Any

from scones.emulator.stepfunctions.lambda_calls import client_error, interpreter_account

#: HTTP statuses of the SNS errors Publish can raise (the service model's); others are 400.
_STATUS = {"NotFound": 404, "AuthorizationError": 403, "InternalError": 500}


class InProcessSns:
    """An SNS client for the interpreter: ``publish`` in-process, the rest through ``fallback``."""

    def __init__(self, region: str, fallback: Any) -> None:
        self.region = region
        self._fallback = fallback

    def __getattr__(self, name: str) -> Any:
        return getattr(self._fallback, name)

    def publish(
        self,
        Message: str,
        TopicArn: str | None = None,
        TargetArn: str | None = None,
        PhoneNumber: str | None = None,
        Subject: str | None = None,
        MessageAttributes: dict[str, Any] | None = None,
        MessageStructure: str | None = None,
        MessageGroupId: str | None = None,
        MessageDeduplicationId: str | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        """``sns:Publish``'s response, as botocore parses it; moto's server's checks, in its order."""
        from moto.core.exceptions import ServiceException
        from moto.sns.models import sns_backends
        from moto.sns.responses import SNSResponse
        from moto.sns.utils import is_e164

        request_id = str(uuid.uuid4())
        if TopicArn is None and TargetArn is None and PhoneNumber is None:  # AWS's answer; moto's server fails
            raise client_error(
                "Publish",
                "InvalidParameter",
                "Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter",
                400,
                request_id,
            )
        if PhoneNumber is not None and not is_e164(PhoneNumber):
            raise client_error(
                "Publish", "InvalidParameter", "Phone number does not meet the E164 format", 400, request_id
            )
        try:
            attributes = SNSResponse()._transform_message_attributes(_as_sent(MessageAttributes or {}))
            message_id = sns_backends[interpreter_account()][self.region].publish(
                Message,
                arn=None if PhoneNumber is not None else TargetArn or TopicArn,
                phone_number=PhoneNumber,
                subject=Subject,
                message_attributes=attributes,
                group_id=MessageGroupId,
                deduplication_id=MessageDeduplicationId,
                message_structure=MessageStructure,
            )
        except ServiceException as exc:
            raise client_error("Publish", exc.code, exc.message, _STATUS.get(exc.code, 400), request_id) from exc
        except ValueError as exc:  # moto's server answers these as InvalidParameter too
            raise client_error("Publish", "InvalidParameter", str(exc), 400, request_id) from exc
        except Exception as exc:  # the server would answer 500: a Task error Catch can match, not States.Runtime
            raise client_error("Publish", "InternalError", f"{type(exc).__name__}: {exc}", 500, request_id) from exc
        return {"MessageId": message_id, "ResponseMetadata": {"RequestId": request_id, "HTTPStatusCode": 200}}


def _as_sent(attributes: dict[str, Any]) -> dict[str, Any]:
    """Attributes as botocore would send them: a JSON string ``BinaryValue`` is its UTF-8 bytes."""
    return {
        name: {**value, "BinaryValue": value["BinaryValue"].encode()}
        if isinstance(value, dict) and isinstance(value.get("BinaryValue"), str)
        else value
        for name, value in attributes.items()
    }
