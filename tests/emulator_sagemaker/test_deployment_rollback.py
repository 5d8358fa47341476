"""A model that fails the nightly smoke test is replaced by the recorded deployment again."""

from __future__ import annotations

import io
import json
import runpy
from dataclasses import replace
from typing import Any

import pytest
from botocore.exceptions import ClientError
from botocore.response import StreamingBody

from scones.deployment.record import Deployment, read_current, write_current
from scones.deployment.rollback import roll_back
from scones.errors import DeploymentRolledBack, RollbackFailed, SmokeTestFailed
from scones.localrun.airflow_home import DAGS_FOLDER
from scones.settings import load_settings
from tests.emulator_sagemaker.conftest import TEST_BUCKET, endpoint_config, in_service, unique


def recorded(endpoint: str, config: str) -> Deployment:
    return Deployment(
        endpoint_name=endpoint,
        training_job="bikes-small",
        model_name="bikes-model",
        endpoint_config=config,
        model_data_url="s3://bucket/model.tar.gz",
        validation_accuracy=0.9,
        classes=["bicycle", "motorcycle"],
        deployed_at="2026-11-22T02:40:00+00:00",
    )


@pytest.fixture
def updated_endpoint(sm, model_name) -> tuple[str, str, str]:
    """(endpoint, the config it served, the config it serves now): an endpoint updated once."""
    name = unique("bikes-smoke")
    old = endpoint_config(sm, model_name, variant="Blue")
    sm.create_endpoint(EndpointName=name, EndpointConfigName=old)
    in_service(sm, name)
    new = endpoint_config(sm, model_name, variant="Green")
    sm.update_endpoint(EndpointName=name, EndpointConfigName=new)
    in_service(sm, name)
    return name, old, new


def serving(sm, name: str) -> tuple[str, str]:
    endpoint = sm.describe_endpoint(EndpointName=name)
    return endpoint["EndpointStatus"], endpoint["EndpointConfigName"]


def test_the_recorded_config_serves_again(sm, updated_endpoint) -> None:
    name, old, new = updated_endpoint
    outcome = roll_back(sm, name, new, recorded(name, old), delay=1)
    assert outcome.rolled_back and old in outcome.reason
    assert serving(sm, name) == ("InService", old)
    # A retry of the task finds the work done, and says so.
    again = roll_back(sm, name, new, recorded(name, old), delay=1)
    assert again.rolled_back and "earlier try" in again.reason
    assert serving(sm, name) == ("InService", old)


def test_a_first_deployment_has_nothing_to_go_back_to(sm, updated_endpoint) -> None:
    name, old, new = updated_endpoint
    for previous in (None, recorded("another-endpoint", old)):
        outcome = roll_back(sm, name, new, previous, delay=1)
        assert not outcome.rolled_back and "no earlier deployment" in outcome.reason
        assert serving(sm, name) == ("InService", new)


def test_an_endpoint_changed_since_is_left_alone(sm, updated_endpoint) -> None:
    name, old, new = updated_endpoint
    outcome = roll_back(sm, name, "some-other-config", recorded(name, old), delay=1)
    assert not outcome.rolled_back and "left as it is" in outcome.reason
    assert serving(sm, name) == ("InService", new)
    gone = roll_back(sm, unique("no-such-endpoint"), new, recorded(name, old), delay=1)
    assert not gone.rolled_back and "does not exist" in gone.reason


def test_a_deleted_recorded_config_is_an_error_and_changes_nothing(sm, model_name, updated_endpoint) -> None:
    name, _, new = updated_endpoint
    deleted = endpoint_config(sm, model_name)
    sm.delete_endpoint_config(EndpointConfigName=deleted)
    with pytest.raises(RollbackFailed, match=f"{deleted} no longer exists"):
        roll_back(sm, name, new, recorded(name, deleted), delay=1)
    assert serving(sm, name) == ("InService", new)


class WrongRuntime:
    """An endpoint whose model answers every request, but not with what a classifier must."""

    def __init__(self, error: ClientError | None = None) -> None:
        self.error = error

    def invoke_endpoint(self, **_: Any) -> dict:
        if self.error:
            raise self.error
        body = json.dumps([0.2, 0.3, 0.5]).encode()  # three classes where two were trained
        return {"Body": StreamingBody(io.BytesIO(body), len(body))}


def dag_task(monkeypatch, sagemaker_session, runtime, task_id: str = "smoke_test_endpoint") -> Any:
    """A task callable of the nightly DAG, its AWS clients the emulator's (runtime: ``runtime``)."""
    import scones.airflow_glue
    import scones.training.dataset

    settings = replace(load_settings(environ={}), bucket=TEST_BUCKET, poll_seconds=1)
    clients = {"sagemaker-runtime": runtime}
    monkeypatch.setattr(scones.airflow_glue, "task_settings", lambda params=None: settings)
    monkeypatch.setattr(
        scones.airflow_glue,
        "aws_client",
        lambda service, _settings, **_: clients.get(service) or sagemaker_session.client(service),
    )
    monkeypatch.setattr(
        scones.training.dataset, "first_validation_image", lambda s3, _settings: ("held-out.png", b"png")
    )
    return settings, runpy.run_path(str(DAGS_FOLDER / "scones_train_deploy.py"))[task_id].function


@pytest.mark.parametrize(
    "runtime",
    [
        WrongRuntime(),
        WrongRuntime(
            ClientError(
                {"Error": {"Code": "ModelError", "Message": "Received server error (500) from primary"}},
                "InvokeEndpoint",
            )
        ),
    ],
    ids=["wrong answer", "model error"],
)
def test_the_dags_smoke_test_rolls_a_failing_model_back(
    monkeypatch, sagemaker_session, s3, sm, updated_endpoint, runtime
) -> None:
    name, old, new = updated_endpoint
    settings, task = dag_task(monkeypatch, sagemaker_session, runtime)
    write_current(s3, TEST_BUCKET, settings.models_prefix, recorded(name, old))
    with pytest.raises(SmokeTestFailed, match=f"failed its smoke test.*serves the recorded {old}"):
        task({"endpoint_name": name, "endpoint_config": new}, {"classes": ["bicycle", "motorcycle"]})
    assert serving(sm, name) == ("InService", old)

    # Cleared or retried, the task must not test the restored model, pass, and let the
    # rejected one be recorded; record_deployment refuses it too.
    with pytest.raises(DeploymentRolledBack, match=f"serves {old}, not this run's {new}"):
        task({"endpoint_name": name, "endpoint_config": new}, {"classes": ["bicycle", "motorcycle"]})
    _, record = dag_task(monkeypatch, sagemaker_session, runtime, "record_deployment")
    with pytest.raises(DeploymentRolledBack, match=f"serves {old}, not this run's {new}"):
        record({}, {}, {"endpoint_name": name, "endpoint_config": new}, {}, {}, {})
    assert read_current(s3, TEST_BUCKET, settings.models_prefix).endpoint_config == old


def test_the_dags_smoke_test_retries_throttling_without_rolling_back(
    monkeypatch, sagemaker_session, s3, sm, updated_endpoint
) -> None:
    name, old, new = updated_endpoint
    throttled = ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "InvokeEndpoint")
    settings, task = dag_task(monkeypatch, sagemaker_session, WrongRuntime(throttled))
    write_current(s3, TEST_BUCKET, settings.models_prefix, recorded(name, old))
    with pytest.raises(ClientError, match="Rate exceeded"):
        task({"endpoint_name": name, "endpoint_config": new}, {"classes": ["bicycle", "motorcycle"]})
    assert serving(sm, name) == ("InService", new)
