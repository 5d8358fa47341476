"""Which NotImplementedError is "not implemented": only moto's dispatch of an action it has no method for."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core.responses import BaseResponse
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.sagemaker.responses import SageMakerResponse

from scones.emulator import unsupported


@pytest.fixture
def refusing(monkeypatch: pytest.MonkeyPatch) -> None:
    """unsupported.install() for this test only (monkeypatch puts moto's methods back)."""
    for name in ("_dispatch", "call_action"):
        monkeypatch.setattr(BaseResponse, name, getattr(BaseResponse, name))
    monkeypatch.setattr(DomainDispatcherApplication, "__init__", DomainDispatcherApplication.__init__)
    unsupported.install()


@mock_aws
def test_an_action_moto_lacks_is_a_400_naming_it(refusing) -> None:
    sm = boto3.client("sagemaker", region_name="us-east-1")
    with pytest.raises(ClientError) as refused:
        sm.describe_auto_ml_job(AutoMLJobName="x")
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert refused.value.response["Error"]["Code"] == "UnsupportedOperation"
    assert "sagemaker:DescribeAutoMLJob" in refused.value.response["Error"]["Message"]


@mock_aws
def test_a_not_implemented_error_inside_an_operation_is_a_failure_not_a_refusal(refusing, monkeypatch) -> None:
    changed = []

    def compute_half_done(self: SageMakerResponse) -> None:
        changed.append("state")  # something happened before the compute gave up
        raise NotImplementedError("this variant of the compute")

    monkeypatch.setattr(SageMakerResponse, "list_models", compute_half_done)
    sm = boto3.client(
        "sagemaker", region_name="us-east-1", config=boto3.session.Config(retries={"total_max_attempts": 1})
    )
    with pytest.raises(ClientError) as failed:
        sm.list_models()

    assert changed == ["state"]
    error = failed.value.response["Error"]
    assert failed.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert error["Code"] == "InternalFailure" and "may be partly done" in error["Message"]
    assert "does not implement" not in error["Message"]
