"""The moto 5.2.5 seams the Step Functions plug-in relies on: checked at start-up, and here.

``scones.emulator.stepfunctions.seams.check_seams`` runs when the emulator starts; these tests
run it, show it fails loudly, and check the seams' behaviour (never moto's source text).
Runs in-process (no emulator).
"""

from __future__ import annotations

import inspect
import time

import pytest
from moto.core.base_backend import BackendDict
from moto.core.config import default_user_config
from moto.stepfunctions import responses as sfn_responses
from moto.stepfunctions.parser import models as parser_models
from moto.stepfunctions.parser import utils as parser_utils
from moto.stepfunctions.parser.asl.component.program import program as parser_program

from scones.emulator._seams import SeamMoved
from scones.emulator.stepfunctions import LocalStepFunctionsBackend, caches, clients, install, seams


def parameters(function) -> list[str]:
    return list(inspect.signature(function).parameters)


def test_every_seam_is_where_the_plug_in_expects_it():
    seams.check_seams()


def test_a_moto_upgrade_fails_loudly(monkeypatch):
    import moto

    monkeypatch.setattr(moto, "__version__", "5.3.0")
    with pytest.raises(SeamMoved, match="moto is 5.3.0"):
        seams.check_seams()


def test_a_moved_method_fails_loudly_naming_it(monkeypatch):
    def start_execution(self, arn, name=None, input=None, trace_header=None):
        return None

    monkeypatch.setattr(parser_models.StepFunctionsParserBackend, "start_execution", start_execution)
    with pytest.raises(SeamMoved, match=r"StepFunctionsParserBackend.start_execution.*changed"):
        seams.check_seams()


def test_a_factory_with_no_caller_left_fails_the_start():
    with pytest.raises(SeamMoved, match="no interpreter module calls boto_client_for"):
        seams.check_installed([], [])


def test_interpreter_backend_is_chosen_by_execute_state_machine():
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


def test_our_overrides_keep_moto_s_signatures():
    start = ["self", "state_machine_arn", "name", "execution_input", "trace_header"]
    assert parameters(LocalStepFunctionsBackend.start_execution) == start


def test_interpreter_calls_services_back_on_moto_port(monkeypatch):
    # LocalAWS sets MOTO_PORT to its port; moto's factory (which ours copies) reads it per call.
    monkeypatch.setenv("MOTO_PORT", "5123")
    client = clients.moto_boto_client_for()("us-east-1", "sns", None)
    assert client.meta.endpoint_url == "http://localhost:5123"
    assert client.meta.config.retries["total_max_attempts"] == 1
    assert client._request_signer._credentials.access_key == clients.INTERPRETER_ACCESS_KEY


def test_interpreter_threads_are_kept_in_the_list_we_prune():
    assert isinstance(parser_utils.TMP_THREADS, list)
    assert parser_program.TMP_THREADS is parser_utils.TMP_THREADS


def test_our_client_factory_replaces_moto_s_in_every_module_that_holds_it():
    import sys

    callers = clients.install()

    assert any(name.endswith("lambda_eval_utils") for name in callers) and len(callers) > 5
    original = clients.moto_boto_client_for()
    holders = [
        name
        for name, module in list(sys.modules.items())
        if name.startswith("moto.") and getattr(module, "boto_client_for", None) is original
    ]
    assert holders == []  # no module of moto's still calls the original
    assert parameters(original) == parameters(clients.boto_client_for)


def test_a_caller_moto_adds_is_found_without_being_listed(monkeypatch):
    import sys
    import types

    module = types.ModuleType("moto.stepfunctions.parser.asl.component.state.exec.state_task.service.new_service")
    module.boto_client_for = clients.moto_boto_client_for()
    monkeypatch.setitem(sys.modules, module.__name__, module)

    assert module.__name__ in clients.install()
    assert module.boto_client_for is clients.boto_client_for


def test_the_definition_and_json_paths_are_parsed_once(monkeypatch):
    from moto.stepfunctions.parser.asl.utils import json_path

    caches.install()
    json_path.parse.cache_clear()
    for _ in range(3):
        assert json_path.extract_json("$.a.b", {"a": {"b": 7}}) == 7
    assert json_path.parse.cache_info().misses == 1 and json_path.parse.cache_info().hits == 2


def test_a_cached_program_serves_two_executions_with_their_own_results():
    """Two executions of one definition, in-process, share the parsed program but not state."""
    import json

    import boto3
    from moto import mock_aws

    from scones.emulator.stepfunctions import caches

    caches.install()
    definition = {
        "StartAt": "Shape",
        "States": {"Shape": {"Type": "Pass", "Parameters": {"doubled.$": "States.MathAdd($.n, $.n)"}, "End": True}},
    }
    default_user_config["stepfunctions"]["execute_state_machine"] = True
    with mock_aws():
        sfn = boto3.client("stepfunctions", region_name="us-east-1")
        arn = sfn.create_state_machine(
            name="cached", definition=json.dumps(definition), roleArn="arn:aws:iam::123456789012:role/sfn"
        )["stateMachineArn"]
        try:
            outputs = []
            for n in (2, 5):
                execution = sfn.start_execution(stateMachineArn=arn, name=f"n{n}", input=json.dumps({"n": n}))[
                    "executionArn"
                ]
                for _ in range(200):
                    described = sfn.describe_execution(executionArn=execution)
                    if described["status"] != "RUNNING":
                        break
                    time.sleep(0.02)
                outputs.append(json.loads(described["output"]))
        finally:
            default_user_config["stepfunctions"]["execute_state_machine"] = False
    assert outputs == [{"doubled": 4}, {"doubled": 10}]


def test_dispatch_memo_wraps_moto_s_service_lookup():
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    from scones.emulator import dispatch

    dispatch.install()
    app = DomainDispatcherApplication(create_app=lambda service: None)
    assert app.get_backend_for_host("api.sagemaker.us-east-1.amazonaws.com") == "sagemaker"
    assert app.get_backend_for_host("states.us-east-1.amazonaws.com") == "stepfunctions"
    assert app.get_backend_for_host("s3") == "s3"  # a moto module name
    assert app.get_backend_for_host(None) is None


def test_what_in_process_sns_publish_calls_keeps_its_shape():
    """sns_calls.InProcessSns calls moto's SNS backend and response helper as its server does."""
    from moto.sns.models import SNSBackend
    from moto.sns.responses import SNSResponse

    assert parameters(SNSBackend.publish) == [
        "self",
        "message",
        "arn",
        "phone_number",
        "subject",
        "message_attributes",
        "group_id",
        "deduplication_id",
        "message_structure",
    ]
    assert parameters(SNSResponse._transform_message_attributes) == ["self", "message_attributes"]
