"""Every point where the Lambda plug-in touches moto 5.2.5, checked when the emulator starts.

``install()`` calls :func:`check_seams` before it changes anything: a moto upgrade that moves
one of these fails the start, naming the moto version and each seam, instead of Invoke
silently echoing payloads again (moto's behaviour without Docker).
"""

from __future__ import annotations

from scones.emulator._seams import SeamCheck


def check_seams() -> None:
    """Raise :class:`~scones.emulator._seams.SeamMoved` naming every seam not where the plug-in expects it."""
    from moto.awslambda import models as moto_lambda
    from moto.awslambda import responses as moto_responses
    from moto.awslambda import urls as moto_urls
    from moto.awslambda import utils as moto_utils
    from moto.awslambda.exceptions import LambdaClientError
    from moto.core.base_backend import AccountSpecificBackend, BackendDict, BaseBackend
    from moto.logs.models import LogsBackend

    check = SeamCheck("Lambda")
    backends = getattr(moto_lambda, "lambda_backends", None)
    check.expect(
        isinstance(backends, BackendDict) and hasattr(backends, "backend"),
        "moto.awslambda.models.lambda_backends is no longer a BackendDict with .backend",
    )
    check.expect(
        isinstance(backends, BackendDict) and issubclass(backends.backend, moto_lambda.LambdaBackend),
        "lambda_backends.backend is no longer LambdaBackend",
    )
    check.attributes(AccountSpecificBackend, "__getitem__")
    check.signature(moto_utils, "get_backend", ("account_id", "region"))
    check.signature(
        moto_lambda.LambdaBackend, "invoke", ("function_name", "qualifier", "body", "headers", "response_headers")
    )
    check.signature(moto_lambda.LambdaBackend, "delete_function", ("function_name", "qualifier"))
    check.signature(moto_lambda.LambdaBackend, "get_function", ("function_name_or_arn", "qualifier"))
    check.signature(moto_lambda.LambdaBackend, "create_event_source_mapping", ("spec",))
    check.signature(BaseBackend, "reset", ())
    check.signature(moto_lambda.LambdaFunction, "invoke", ("body", "request_headers", "response_headers"))
    check.signature(moto_responses.LambdaResponse, "_get_param", ("param_name", "if_none"))
    check.attributes(moto_responses.LambdaResponse, "invoke", "call_action")
    check.expect(
        isinstance(getattr(BaseBackend, "_url_module", None), property),
        "BaseBackend._url_module is gone: our urls.py would not be found",
    )
    check.expect(
        isinstance(getattr(moto_urls, "url_paths", None), dict) and hasattr(moto_urls, "url_bases"),
        "moto.awslambda.urls no longer has url_bases and a url_paths dict",
    )
    check.signature(moto_utils.make_function_arn, "func", ("resource_type", "region", "account", "name"))
    check.signature(LambdaClientError, "__init__", ("error", "message"))
    check.signature(LogsBackend, "ensure_log_group", ("log_group_name",))
    check.signature(LogsBackend, "ensure_log_stream", ("log_group_name", "log_stream_name"))
    check.signature(LogsBackend, "put_log_events", ("log_group_name", "log_stream_name", "log_events"))
    check.raise_if_moved("include/scones/emulator/awslambda/ against moto's awslambda package")
