"""The moto 5.2.5 seams the Step Functions plug-in relies on: this fails loudly if one moves.

Runs in-process (no emulator).
"""

from __future__ import annotations

import inspect
import time
from pathlib import Path

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


def test_our_client_factory_replaces_moto_s_in_every_module_that_imports_it():
    import importlib

    from scones.emulator.stepfunctions import clients

    for name in clients.CALLERS:
        module = importlib.import_module(name)
        assert module.boto_client_for in (boto_client.boto_client_for, clients.boto_client_for), name
    # No module we do not know of calls moto's factory: every importer is in CALLERS.
    root = Path(boto_client.__file__).parents[2]  # moto/stepfunctions/parser
    importers = {
        ".".join(("moto", "stepfunctions", "parser", *path.relative_to(root).with_suffix("").parts))
        for path in root.rglob("*.py")
        if "import boto_client_for" in path.read_text()
    }
    assert importers == set(clients.CALLERS)
    assert parameters(boto_client.boto_client_for) == parameters(clients.boto_client_for)
    # The settings we copy: fake credentials, no retries, the interpreter's timeouts.
    source = inspect.getsource(boto_client.boto_client_for)
    for setting in ('aws_access_key_id="ak"', "parameter_validation=False", '"total_max_attempts": 1',
                    "TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS"):  # fmt: skip
        assert setting in source, setting


def test_the_definition_and_json_paths_are_parsed_where_we_cache_them():
    from moto.stepfunctions.parser.asl.component.common.path import result_path
    from moto.stepfunctions.parser.asl.utils import json_path
    from moto.stepfunctions.parser.backend import execution_worker

    # Module sources (the files), since caches.install() may have replaced the live functions.
    worker = inspect.getsource(execution_worker)
    assert "def _get_evaluation_entrypoint(self) -> EvalComponent:\n        return AmazonStateLanguageParser.parse(" in worker
    assert "self._evaluation_details.state_machine_details.definition\n        )[0]" in worker
    assert "program = self._get_evaluation_entrypoint()" in worker
    assert "from jsonpath_ng.ext import parse" in inspect.getsource(json_path)
    assert "input_expr = parse(path)" in inspect.getsource(json_path)
    assert "from jsonpath_ng import parse" in inspect.getsource(result_path)
    assert "result_expr = parse(self.result_path_src)" in inspect.getsource(result_path)


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
        arn = sfn.create_state_machine(name="cached", definition=json.dumps(definition),
                                       roleArn="arn:aws:iam::123456789012:role/sfn")["stateMachineArn"]  # fmt: skip
        try:
            outputs = []
            for n in (2, 5):
                execution = sfn.start_execution(stateMachineArn=arn, name=f"n{n}", input=json.dumps({"n": n}))["executionArn"]
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

    source = inspect.getsource(DomainDispatcherApplication.get_application)
    assert "with self.lock:" in source and "self.get_backend_for_host(host)" in source
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

    assert parameters(SNSBackend.publish) == ["self", "message", "arn", "phone_number", "subject", "message_attributes",
                                              "group_id", "deduplication_id", "message_structure"]  # fmt: skip
    assert parameters(SNSResponse._transform_message_attributes) == ["self", "message_attributes"]
    # The server's publish does what InProcessSns repeats: E.164 check, attribute conversion, then the backend.
    source = inspect.getsource(SNSResponse.publish)
    assert "is_e164" in source and "_parse_message_attributes" in source and "self.backend.publish(" in source
