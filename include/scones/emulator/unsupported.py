"""What the emulator answers for an operation or a service it does not serve: a 4xx error, at once.

moto 5.2.5 answers both with an HTML page and HTTP 500, which SDKs retry (five times, with
backoff, for boto3's standard mode) before showing a message that says nothing; the reason
("The create_auto_ml_job action has not been implemented") was only in the server's log:

- an action moto has no method for: ``BaseResponse.call_action`` raises ``NotImplementedError``
  (moto/core/responses.py). Only that case is "not implemented": a ``NotImplementedError`` from
  inside an operation (a backend's unsupported argument, the plug-ins' compute) may come after
  state changed, so it is a crash like any other (``InternalFailure``, 500);
- a host no moto service claims (``ecr-public``...): ``DomainDispatcherApplication`` builds an
  app for the service ``None`` and crashes (moto/moto_server/werkzeug_app.py).

- a REST request (Lambda's API, s3control's jobs...) whose path no moto route matches: Flask's
  HTML 404 page.

Here the first is answered as an AWS error in the service's own protocol (JSON for JSON
services, XML for query services), HTTP 400, code ``UnsupportedOperation``, naming the
operation; the second as a JSON 400 ``UnknownService`` naming the host; the third as a 400
``UnsupportedOperation`` naming the method and path (XML for XML services, else JSON). A 4xx is not retried. Any other crash
in moto's request handling (S3's aside) is AWS's ``InternalFailure``, HTTP 500, in the
service's format and naming the exception, instead of an HTML page; and when even that answer
cannot be built (a request that fails before moto has parsed it, e.g. ``Content-Encoding: gzip``
over a body that is not gzip), a hand-built JSON ``InternalFailure``.

A plug-in also refuses, the same way and before moto records anything, the operations moto
serves but whose answer would claim work nobody does (``refuse(service, {action: message})``:
SageMaker's AutoML, Step Functions' activities...).
"""

from __future__ import annotations

import functools
import json
import logging
import warnings
from collections.abc import Callable, Iterable
from typing import Any

from moto.core.exceptions import ServiceException

log = logging.getLogger(__name__)

ERROR_CODE = "UnsupportedOperation"
UNKNOWN_SERVICE_CODE = "UnknownService"


#: moto service name (``BaseResponse.service_name``) -> action -> the refusal's message.
_REFUSED: dict[str, dict[str, str]] = {}


def refuse(service: str, messages: dict[str, str]) -> None:
    """Answer each action of ``messages`` on ``service`` with a 400 carrying its message."""
    _REFUSED.setdefault(service, {}).update(messages)


#: Services whose crashes keep moto's answer: S3's server code is another plug-in's concern.
LEFT_AS_IS = frozenset({"s3"})


class InternalFailure(ServiceException):
    """moto crashed on a request: AWS's InternalFailure, HTTP 500, with the exception named."""

    code = "InternalFailure"

    def __init__(self, message: str) -> None:
        super().__init__(message)


class UnsupportedOperation(ServiceException):
    """An operation the emulator refuses; serialised like any AWS error of the service, HTTP 400."""

    code = ERROR_CODE

    def __init__(self, message: str) -> None:
        super().__init__(message)


def install() -> None:
    """Answer unimplemented actions and unknown services with a 4xx (``LocalAWS`` calls this once)."""
    from moto.core.responses import ActionResult, BaseResponse
    from moto.core.utils import camelcase_to_underscores, method_names_from_class
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication
    from werkzeug.exceptions import HTTPException

    original_dispatch = BaseResponse._dispatch
    if getattr(original_dispatch, "refuses_unsupported", False):
        return
    # moto warns, on every such answer, that these codes are not in the service's model: they are ours.
    warnings.filterwarnings("ignore", message=r"Exception\((UnsupportedOperation|InternalFailure)\)")
    original_call_action = BaseResponse.call_action

    def call_action(self: BaseResponse) -> Any:
        action = _action_name(self)
        refused = _REFUSED.get(getattr(self, "service_name", ""), {}).get(action)
        if refused is not None:
            return self.serialized(ActionResult(UnsupportedOperation(refused)))
        method = camelcase_to_underscores(action) if action != "?" else ""
        if method and method not in method_names_from_class(self.__class__):
            # moto's own test before it raises "has not been implemented": nothing has run yet.
            service = getattr(self, "service_name", None) or "this service"
            log.info("refused %s:%s (moto has no method %s)", service, action, method)
            return self.serialized(
                ActionResult(
                    UnsupportedOperation(
                        f"The local AWS emulator does not implement {service}:{action} (moto {_moto_version()}: "
                        f"The {method} action has not been implemented). It answers the operations moto implements, "
                        "with the compute listed in the README's emulator table."
                    )
                )
            )
        return original_call_action(self)

    def _dispatch(self: BaseResponse, request: Any, full_url: str | None = None, headers: Any = None) -> Any:
        try:
            return original_dispatch(self, request, full_url, headers)
        except HTTPException:
            raise  # moto's own errors of the older kind: werkzeug answers them in the service's format
        except Exception as exc:
            if getattr(self, "service_name", None) in LEFT_AS_IS:
                raise
            # A crash in moto: still an AWS error the SDK can read (InternalFailure, 500), never an HTML page.
            service, action = getattr(self, "service_name", None) or "?", _action_name(self)
            log.exception("%s:%s crashed", service, action)
            message = (
                f"The local AWS emulator failed on {service}:{action} ({type(exc).__name__}: {exc}); it may be "
                f"partly done. This is a bug of the emulator or of moto {_moto_version()}: the emulator's log "
                "has the traceback."
            )
            try:
                _, response_headers, body = self.serialized(ActionResult(InternalFailure(message)))
            except Exception:  # the request is too broken to serialise for (not parsed yet): JSON by hand
                log.exception("%s:%s: cannot serialise the error in the service's format", service, action)
                return _json_internal_failure(message)
            response_headers["status"] = 500
            return 500, response_headers, body

    _dispatch.refuses_unsupported = True  # type: ignore[attr-defined]
    BaseResponse._dispatch = _dispatch  # type: ignore[method-assign]
    BaseResponse.call_action = call_action  # type: ignore[method-assign]

    original_init = DomainDispatcherApplication.__init__

    def __init__(
        self: DomainDispatcherApplication, create_app: Callable[[str], Any], *args: Any, **kwargs: Any
    ) -> None:
        original_init(self, _refusing_unknown_services(create_app), *args, **kwargs)

    DomainDispatcherApplication.__init__ = __init__  # type: ignore[method-assign]


def _refusing_unknown_services(create_app: Callable[[Any], Any]) -> Callable[[Any], Any]:
    from werkzeug.exceptions import NotFound

    def create(service: Any) -> Any:
        if not service:
            return unknown_service_app
        app = create_app(service)
        # By class, not code: moto's own 404 errors (ResourceNotFound...) are other HTTPException classes.
        app.register_error_handler(NotFound, functools.partial(_unrouted, service))
        return app

    return create


def _json_internal_failure(message: str) -> tuple[int, dict[str, Any], str]:
    """InternalFailure in AWS's JSON error shape, built without moto's serialiser (which can fail too)."""
    body = json.dumps({"__type": InternalFailure.code, "message": message, "Message": message})
    return (
        500,
        {"status": 500, "Content-Type": "application/x-amz-json-1.1", "x-amzn-ErrorType": InternalFailure.code},
        body,
    )


def _unrouted(service: str, error: Exception) -> Any:
    """A request no route of ``service`` matches: a JSON 400 naming it (Flask answered an HTML 404)."""
    from flask import Response, request

    if request.url_rule is not None:  # a view raised NotFound itself: not ours to rewrite
        return error
    message = (
        f"The local AWS emulator does not implement {request.method} {request.path} of {service} "
        f"(moto {_moto_version()} has no route for it)."
    )
    if _speaks_xml(service):  # s3control (batch operations' jobs...): an SDK reads no JSON error there
        from xml.sax.saxutils import escape

        body = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse><Error><Code>{ERROR_CODE}</Code>'
            f"<Message>{escape(message)}</Message></Error></ErrorResponse>"
        )
        return Response(body, status=400, headers={"Content-Type": "application/xml"})
    body = json.dumps({"__type": ERROR_CODE, "message": message, "Message": message})
    return Response(body, status=400, headers={"Content-Type": "application/json", "x-amzn-ErrorType": ERROR_CODE})


@functools.cache  # a botocore session per unrouted request otherwise
def _speaks_xml(service: str) -> bool:
    """Whether the AWS service moto calls ``service`` answers errors in XML (rest-xml, query)."""
    import botocore.session

    try:
        protocol = botocore.session.get_session().get_service_model(service).protocol
    except Exception:
        return False
    return protocol in ("rest-xml", "query", "ec2")


def unknown_service_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """WSGI app for a request no moto service claims: 400, JSON naming the host and the signing service."""
    host = environ.get("HTTP_HOST", "")
    signed_for = signing_service(environ.get("HTTP_AUTHORIZATION", ""))
    message = (
        f"The local AWS emulator does not serve {signed_for or 'the service at ' + host!s} "
        f"(moto {_moto_version()} has no such service); point this client at real AWS, or use a service the "
        "emulator implements (README: the emulator table)."
    )
    body = json.dumps({"__type": UNKNOWN_SERVICE_CODE, "message": message, "Message": message}).encode()
    start_response(
        "400 Bad Request",
        [
            ("Content-Type", "application/x-amz-json-1.1"),
            ("x-amzn-ErrorType", UNKNOWN_SERVICE_CODE),
            ("Content-Length", str(len(body))),
        ],
    )
    return [body]


def signing_service(authorization: str) -> str:
    """``ecr-public`` from ``AWS4-HMAC-SHA256 Credential=AK/20250101/us-east-1/ecr-public/aws4_request, ...``."""
    try:
        return authorization.split("Credential=", 1)[1].split(",", 1)[0].split("/")[3]
    except IndexError:
        return ""


def _action_name(response: Any) -> str:
    try:
        return response._get_action() or "?"
    except Exception:  # an action that cannot even be named is still refused
        return "?"


def _moto_version() -> str:
    import moto

    return moto.__version__
