"""The moto 5.2.5 seams the Lambda executor plugs into: checked at start-up, and here.

``scones.emulator.awslambda.seams.check_seams`` runs when the emulator starts; these tests run
it, show it fails loudly, and check the seams' behaviour (never moto's source text).
Runs in-process (no emulator).
"""

from __future__ import annotations

import inspect
import json

import boto3
import moto
import pytest
from moto import mock_aws
from moto.awslambda import models as moto_lambda
from moto.awslambda import responses as moto_lambda_responses
from moto.awslambda import urls as moto_lambda_urls
from moto.awslambda import utils as moto_lambda_utils
from moto.awslambda.exceptions import LambdaClientError
from moto.core.base_backend import BackendDict, BaseBackend
from moto.core.config import default_user_config
from moto.logs.models import LogsBackend

from scones.emulator._seams import SeamMoved
from scones.emulator.awslambda import LocalLambdaBackend, install, seams
from scones.emulator.awslambda.function_spec import FunctionSpec
from scones.emulator.awslambda.responses import LocalLambdaResponse
from tests.emulator_lambda.functions import zip_source

PINNED_MOTO = "5.2.5"


def parameters(function) -> list[str]:
    return list(inspect.signature(function).parameters)


def test_moto_is_the_pinned_version():
    assert moto.__version__ == PINNED_MOTO, "moto changed: re-check every seam in this file, then the pin"


def test_every_seam_is_where_the_plug_in_expects_it():
    seams.check_seams()


def test_a_moto_upgrade_or_a_moved_method_fails_loudly(monkeypatch):
    monkeypatch.setattr(moto, "__version__", "5.3.0")
    monkeypatch.setattr(moto_lambda.LambdaBackend, "invoke", lambda self, name, body: None)
    with pytest.raises(SeamMoved) as moved:
        seams.check_seams()
    assert "moto is 5.3.0" in str(moved.value) and "LambdaBackend.invoke" in str(moved.value)


def test_lambda_backend_invoke_is_the_method_we_override():
    expected = ["self", "function_name", "qualifier", "body", "headers", "response_headers"]
    assert parameters(moto_lambda.LambdaBackend.invoke) == expected
    assert parameters(LocalLambdaBackend.invoke) == expected
    # Overridden to stop the workers of a deleted function, or of every function on reset.
    assert parameters(moto_lambda.LambdaBackend.delete_function) == ["self", "function_name", "qualifier"]
    assert parameters(LocalLambdaBackend.delete_function) == ["self", "function_name", "qualifier"]
    assert parameters(BaseBackend.reset) == parameters(LocalLambdaBackend.reset) == ["self"]


def test_install_makes_moto_hand_out_our_backend(monkeypatch):
    # On a stand-in for moto's global backends, so other in-process moto tests keep moto's.
    monkeypatch.setattr(moto_lambda, "lambda_backends", BackendDict(moto_lambda.LambdaBackend, "lambda"))
    monkeypatch.setitem(default_user_config, "lambda", {"use_docker": True})
    created_before = moto_lambda_utils.get_backend("111122223333", "us-east-1")

    install()

    assert isinstance(created_before, LocalLambdaBackend), "a backend created before install() changes too"
    assert isinstance(moto_lambda_utils.get_backend("444455556666", "us-east-1"), LocalLambdaBackend)
    default_user_config["lambda"] = {"use_docker": False}  # moto's own switch back to its echo
    assert not isinstance(moto_lambda_utils.get_backend("444455556666", "us-east-1"), LocalLambdaBackend)


def test_our_backend_finds_moto_urls_next_to_its_class():
    # BaseBackend._url_module maps <package>.models to <package>.urls: ours has moto's paths,
    # all answered by LocalLambdaResponse (moto answers them all with LambdaResponse).
    backend = LocalLambdaBackend("us-east-1", "123456789012")
    assert backend._url_module.url_bases is moto_lambda_urls.url_bases
    assert set(backend._url_module.url_paths) == set(moto_lambda_urls.url_paths)
    assert set(moto_lambda_urls.url_paths.values()) == {moto_lambda_responses.LambdaResponse.dispatch}
    assert set(backend._url_module.url_paths.values()) == {LocalLambdaResponse.dispatch}


def test_moto_invoke_asks_for_the_qualifier_in_lower_case():
    # What LocalLambdaResponse._get_param corrects: boto3 sends the query parameter "Qualifier".
    # (Behaviour: test_invoke.py::test_published_version_runs_its_own_code.)
    assert parameters(moto_lambda_responses.LambdaResponse._get_param) == ["self", "param_name", "if_none"]


@mock_aws
def test_function_spec_reads_what_moto_stores_for_a_function():
    iam = boto3.client("iam", region_name="us-east-1")
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps({}))["Role"]["Arn"]
    code = zip_source({"app.py": "def handler(event, context):\n    return 1\n"})
    boto3.client("lambda", region_name="us-east-1").create_function(
        FunctionName="seam",
        Runtime="python3.11",
        Handler="app.handler",
        Role=role,
        Code={"ZipFile": code},
        Timeout=7,
        MemorySize=256,
        Environment={"Variables": {"A": "1"}},
    )
    fn = moto_lambda.lambda_backends["123456789012"]["us-east-1"].get_function("seam", None)

    spec = FunctionSpec.from_moto(fn)

    assert (spec.function_name, spec.version, spec.handler, spec.runtime) == (
        "seam",
        "$LATEST",
        "app.handler",
        "python3.11",
    )
    assert (spec.timeout, spec.memory_size, spec.environment) == (7.0, 256, (("A", "1"),))
    assert spec.code == code and len(spec.code_digest) == 64
    assert spec.function_arn == "arn:aws:lambda:us-east-1:123456789012:function:seam"
    assert isinstance(fn.logs_backend, LogsBackend) and fn.package_type == "Zip"


def test_moto_pieces_the_executor_calls():
    assert parameters(LogsBackend.ensure_log_group) == ["self", "log_group_name"]
    assert parameters(LogsBackend.ensure_log_stream) == ["self", "log_group_name", "log_stream_name"]
    assert parameters(LogsBackend.put_log_events) == ["self", "log_group_name", "log_stream_name", "log_events"]
    assert parameters(LambdaClientError.__init__) == ["self", "error", "message"]
    assert parameters(moto_lambda_utils.make_function_arn.func) == ["resource_type", "region", "account", "name"]


@pytest.mark.parametrize("runtime", ["nodejs20.x", "java21", None])
def test_only_python_zip_functions_run(runtime):
    from types import SimpleNamespace

    from scones.emulator.awslambda.exceptions import UnsupportedFunction

    fn = SimpleNamespace(package_type="Zip", run_time=runtime, function_name="f", handler="app.handler")
    with pytest.raises(UnsupportedFunction, match="python runtimes only"):
        FunctionSpec.from_moto(fn)  # type: ignore[arg-type]
