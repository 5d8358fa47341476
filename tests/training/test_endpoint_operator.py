"""EndpointDeployOperator: a retry does not recreate what exists, and a Failed endpoint is replaced."""

from __future__ import annotations

from typing import Any

import pytest
from airflow.providers.amazon.aws.operators.sagemaker import SageMakerEndpointOperator
from botocore.exceptions import ClientError

from scones.deployment.endpoint_operator import EndpointDeployOperator

CONFIG = {
    "Model": {"ModelName": "scones-model-1"},
    "EndpointConfig": {"EndpointConfigName": "scones-config-1"},
    "Endpoint": {"EndpointName": "scones-endpoint", "EndpointConfigName": "scones-config-1"},
}


def not_found(what: str) -> ClientError:
    return ClientError({"Error": {"Code": "ValidationException", "Message": f"Could not find {what}."}}, "Describe")


class StubWaiter:
    def __init__(self, hook: StubHook, name: str) -> None:
        self.hook, self.name = hook, name

    def wait(self, **_: Any) -> None:
        self.hook.calls.append(f"wait:{self.name}")
        self.hook.endpoint = self.hook.after_wait.get(self.name, self.hook.endpoint)


class StubHook:
    """What SageMaker answers: which of the model, config and endpoint exist, in which state."""

    def __init__(
        self, model: bool, config: bool, endpoint: dict[str, Any] | None, after_wait: dict | None = None
    ) -> None:
        self.model, self.config, self.endpoint = model, config, endpoint
        self.after_wait = after_wait or {}
        self.calls: list[str] = []
        self.conn = self

    def describe_model(self, name: str) -> dict:
        if not self.model:
            raise not_found(f"model '{name}'")
        return {"ModelName": name}

    def describe_endpoint_config(self, name: str) -> dict:
        if not self.config:
            raise not_found(f"endpoint configuration '{name}'")
        return {"EndpointConfigName": name}

    def describe_endpoint(self, EndpointName: str) -> dict:
        if self.endpoint is None:
            raise not_found(f"endpoint '{EndpointName}'")
        return {"EndpointName": EndpointName, **self.endpoint}

    def delete_endpoint(self, EndpointName: str) -> None:
        self.calls.append("delete_endpoint")

    def get_waiter(self, name: str) -> StubWaiter:
        return StubWaiter(self, name)


def deploy_with(hook: StubHook, monkeypatch: pytest.MonkeyPatch) -> tuple[dict | None, dict | None]:
    """Run the operator; return what it returned and the config the provider got (None: not called)."""
    op = EndpointDeployOperator(
        task_id="deploy_endpoint", config={k: dict(v) for k, v in CONFIG.items()}, check_interval=1
    )
    monkeypatch.setattr(EndpointDeployOperator, "hook", hook)
    handed: list[dict] = []

    def provider(self: SageMakerEndpointOperator, context: Any) -> dict:
        handed.append(dict(self.config))
        return {"Endpoint": "deployed by the provider"}

    monkeypatch.setattr(SageMakerEndpointOperator, "execute", provider)
    result = op.execute({})
    return result, (handed[0] if handed else None)


def test_a_first_deployment_is_the_providers(monkeypatch: pytest.MonkeyPatch) -> None:
    _, handed = deploy_with(StubHook(model=False, config=False, endpoint=None), monkeypatch)
    assert handed == CONFIG


def test_a_retry_keeps_the_model_and_config_an_earlier_try_made(monkeypatch: pytest.MonkeyPatch) -> None:
    old = {"EndpointStatus": "InService", "EndpointConfigName": "scones-config-0"}
    _, handed = deploy_with(StubHook(model=True, config=True, endpoint=old), monkeypatch)
    assert handed == {"Endpoint": CONFIG["Endpoint"]}  # the provider updates the endpoint only


def test_a_retry_after_the_update_went_through_answers_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    serving = {"EndpointStatus": "InService", "EndpointConfigName": "scones-config-1"}
    result, handed = deploy_with(StubHook(model=True, config=True, endpoint=serving), monkeypatch)
    assert handed is None
    assert result["Endpoint"]["EndpointConfigName"] == "scones-config-1"
    assert result["EndpointConfig"]["EndpointConfigName"] == "scones-config-1"


def test_an_update_in_progress_is_waited_out_first(monkeypatch: pytest.MonkeyPatch) -> None:
    updating = {"EndpointStatus": "Updating", "EndpointConfigName": "scones-config-0"}
    done = {"EndpointStatus": "InService", "EndpointConfigName": "scones-config-1"}
    hook = StubHook(model=True, config=True, endpoint=updating, after_wait={"endpoint_in_service": done})
    result, handed = deploy_with(hook, monkeypatch)
    assert hook.calls == ["wait:endpoint_in_service"] and handed is None
    assert result["Endpoint"]["EndpointStatus"] == "InService"


def test_a_failed_endpoint_is_deleted_and_created_anew(monkeypatch: pytest.MonkeyPatch) -> None:
    failed = {"EndpointStatus": "Failed", "EndpointConfigName": "scones-config-0", "FailureReason": "image pull"}
    hook = StubHook(model=False, config=False, endpoint=failed)
    _, handed = deploy_with(hook, monkeypatch)
    assert hook.calls == ["delete_endpoint", "wait:endpoint_deleted"]
    assert handed == CONFIG
