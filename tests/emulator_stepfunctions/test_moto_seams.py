"""The moto 5.2.5 seams the Step Functions plug-in relies on: this fails loudly if one moves.

Runs in-process (no emulator).
"""

from __future__ import annotations

import inspect

from moto.core.base_backend import BackendDict
from moto.core.config import default_user_config
from moto.stepfunctions import responses as sfn_responses
from moto.stepfunctions.models import StepFunctionBackend
from moto.stepfunctions.parser import models as parser_models
from moto.stepfunctions.parser import utils as parser_utils
from moto.stepfunctions.parser.asl.component.program import program as parser_program
from moto.stepfunctions.parser.asl.utils import boto_client
from moto.stepfunctions.parser.backend import execution as parser_execution

from scones.emulator.stepfunctions import LocalStepFunctionsBackend, install


def parameters(function) -> list[str]:
    return list(inspect.signature(function).parameters)


def test_interpreter_backend_is_chosen_by_execute_state_machine():
    source = inspect.getsource(sfn_responses.get_backend)
    assert 'get("execute_state_machine", False)' in source
    assert "stepfunctions_parser_backends[account][region]" in source
    assert isinstance(parser_models.stepfunctions_parser_backends, BackendDict)
    assert issubclass(LocalStepFunctionsBackend, parser_models.StepFunctionsParserBackend)


def test_install_makes_moto_hand_out_our_backend(monkeypatch):
    # On a stand-in for moto's global backends, so other in-process moto tests keep moto's.
    stand_in = BackendDict(parser_models.StepFunctionsParserBackend, "stepfunctions")
    monkeypatch.setattr(parser_models, "stepfunctions_parser_backends", stand_in)
    monkeypatch.setitem(default_user_config, "stepfunctions", {"execute_state_machine": True})

    install()

    assert isinstance(sfn_responses.get_backend("111122223333", "us-east-1"), LocalStepFunctionsBackend)
    default_user_config["stepfunctions"] = {"execute_state_machine": False}  # moto's records-only backend
    assert not isinstance(sfn_responses.get_backend("111122223333", "us-east-1"), LocalStepFunctionsBackend)


def test_methods_we_override_keep_their_signatures():
    start = ["self", "state_machine_arn", "name", "execution_input", "trace_header"]
    assert parameters(parser_models.StepFunctionsParserBackend.start_execution) == start
    assert parameters(LocalStepFunctionsBackend.start_execution) == start
    assert parameters(parser_models.StepFunctionsParserBackend.describe_execution) == ["self", "execution_arn"]
    assert parameters(StepFunctionBackend._validate_name) == ["self", "name"]
    # The interpreter names an unnamed execution "None" (what our start_execution corrects).
    assert "exec_name = name" in inspect.getsource(parser_models.StepFunctionsParserBackend.start_execution)


def test_describe_execution_output_is_what_we_normalise():
    # The response uses a str output as is, else json.dumps it (with spaces).
    assert "isinstance(execution.output, str)" in inspect.getsource(sfn_responses.StepFunctionResponse.describe_execution)
    # The interpreter's final state is where moto copies the output from, after setting the status.
    reflect = inspect.getsource(parser_execution.BaseExecutionWorkerCommunication._reflect_execution_status)
    assert "self.execution.exec_worker.env.states.get_input()" in reflect


def test_interpreter_calls_services_back_on_moto_port():
    # LocalAWS sets MOTO_PORT to its port; the interpreter's boto3 clients read it per call.
    assert 'f"http://localhost:{moto_server_port()}"' in inspect.getsource(boto_client.boto_client_for)


def test_interpreter_threads_are_kept_in_the_list_we_prune():
    assert isinstance(parser_utils.TMP_THREADS, list)
    assert parser_program.TMP_THREADS is parser_utils.TMP_THREADS
