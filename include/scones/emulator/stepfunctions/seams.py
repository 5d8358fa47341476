"""Every point where the Step Functions plug-in touches moto 5.2.5, checked when the emulator starts.

``install()`` calls :func:`check_seams` before it changes anything, and
:func:`check_installed` after: a moto upgrade that moves one of these fails the start, naming
the moto version and each seam, instead of executions silently running slower, differently
or not at all.
"""

from __future__ import annotations

from scones.emulator._seams import SeamCheck

REVIEW = "include/scones/emulator/stepfunctions/ against moto's stepfunctions/parser package"


def check_seams() -> None:
    """Raise :class:`~scones.emulator._seams.SeamMoved` naming every seam not where the plug-in expects it."""
    import jsonpath_ng
    from moto.core.base_backend import BackendDict
    from moto.sns.models import SNSBackend
    from moto.sns.responses import SNSResponse
    from moto.stepfunctions import responses as sfn_responses
    from moto.stepfunctions.models import StepFunctionBackend
    from moto.stepfunctions.parser import models as parser_models
    from moto.stepfunctions.parser import quotas
    from moto.stepfunctions.parser import utils as parser_utils
    from moto.stepfunctions.parser.asl.component.common.error_name import custom_error_name, states_error_name
    from moto.stepfunctions.parser.asl.component.common.path import result_path
    from moto.stepfunctions.parser.asl.component.program import program as parser_program
    from moto.stepfunctions.parser.asl.component.state.exec.execute_state import ExecutionState
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task import StateTask
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
    from moto.stepfunctions.parser.asl.utils import boto_client, json_path
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    from scones.emulator.stepfunctions.clients import moto_boto_client_for

    check = SeamCheck("Step Functions")
    backends = getattr(parser_models, "stepfunctions_parser_backends", None)
    check.expect(
        isinstance(backends, BackendDict) and hasattr(backends, "backend"),
        "stepfunctions_parser_backends is no longer a BackendDict with .backend",
    )
    check.signature(sfn_responses, "get_backend", ("account", "region"))
    check.signature(
        parser_models.StepFunctionsParserBackend,
        "start_execution",
        ("state_machine_arn", "name", "execution_input", "trace_header"),
    )
    check.signature(parser_models.StepFunctionsParserBackend, "describe_execution", ("execution_arn",))
    check.signature(StepFunctionBackend, "_validate_name", ("name",))
    check.expect(
        isinstance(getattr(parser_utils, "TMP_THREADS", None), list)
        and getattr(parser_program, "TMP_THREADS", None) is parser_utils.TMP_THREADS,
        "the interpreter no longer keeps its threads in parser.utils.TMP_THREADS",
    )
    check.expect(
        getattr(quotas, "MAX_STATE_SIZE_UTF8_BYTES", None) == 256 * 1024,
        "parser.quotas.MAX_STATE_SIZE_UTF8_BYTES is no longer Step Functions' 256 KiB",
    )
    # quotas.py: the modules that read moto's size predicate by name, and SendTaskSuccess's arguments.
    import importlib

    from scones.emulator.stepfunctions.quotas import IMPORTERS

    for name in IMPORTERS:
        check.expect(
            callable(getattr(importlib.import_module(name), "is_within_size_quota", None)),
            f"{name} no longer reads is_within_size_quota (quotas.py rebinds it there)",
        )
    check.signature(parser_models.StepFunctionsParserBackend, "send_task_success", ("task_token", "outcome"))
    # clients.py: moto's factory, its arguments, and where its clients point.
    check.signature(boto_client, "boto_client_for", ("region", "service", "state_credentials"))
    try:
        client = moto_boto_client_for()("us-east-1", "sns", None)
        config = client.meta.config
        check.expect(
            client.meta.endpoint_url.startswith("http://localhost:")
            or client.meta.endpoint_url.startswith("https://sns."),
            f"moto's boto_client_for now points at {client.meta.endpoint_url}",
        )
        check.expect(
            config.retries.get("total_max_attempts") == 1,
            "moto's boto_client_for no longer builds clients without retries",
        )
    except Exception as exc:  # any failure here is a moved seam
        check.expect(False, f"moto's boto_client_for('us-east-1', 'sns', None) failed: {exc!r}")
    # caches.py: the parse calls it memoises.
    check.attributes(ExecutionWorker, "_get_evaluation_entrypoint")
    check.expect(
        "_evaluation_details" in getattr(ExecutionWorker, "__annotations__", {}),
        "ExecutionWorker no longer keeps _evaluation_details (the definition caches.py parses)",
    )
    check.attributes(AmazonStateLanguageParser, "parse")
    check.expect(
        getattr(json_path, "parse", None) in (jsonpath_ng.ext.parse,) or hasattr(json_path.parse, "cache_info"),
        "parser.asl.utils.json_path no longer parses with jsonpath_ng.ext.parse",
    )
    check.expect(
        getattr(result_path, "parse", None) in (jsonpath_ng.parse,) or hasattr(result_path.parse, "cache_info"),
        "parser...path.result_path no longer parses with jsonpath_ng.parse",
    )
    # timeouts.py and states_errors.py.
    check.signature(ExecutionState, "_from_error", ("env", "ex"))
    check.attributes(StateTask, "_get_timed_out_failure_event")
    check.attributes(custom_error_name, "CustomErrorName", "ILLEGAL_CUSTOM_ERROR_PREFIX")
    check.signature(states_error_name.StatesErrorName, "from_name", ("error_name",))
    # sns_calls.py: the in-process Publish.
    check.signature(
        SNSBackend,
        "publish",
        (
            "message",
            "arn",
            "phone_number",
            "subject",
            "message_attributes",
            "group_id",
            "deduplication_id",
            "message_structure",
        ),
    )
    check.signature(SNSResponse, "_transform_message_attributes", ("message_attributes",))
    check.raise_if_moved(REVIEW)


def check_installed(callers: list[str], timeouts_wrapped: list[type]) -> None:
    """After install: the client factory found its callers, the timeout causes their states."""
    check = SeamCheck("Step Functions")
    check.expect(
        any(name.endswith("lambda_eval_utils") for name in callers),
        f"no interpreter module calls boto_client_for any more (found {callers})",
    )
    names = {cls.__name__ for cls in timeouts_wrapped}
    check.expect(
        {"StateTask", "StateTaskLambda"} <= names,
        f"the Task states no longer build their failure in _from_error (wrapped {sorted(names)})",
    )
    check.raise_if_moved(REVIEW)
