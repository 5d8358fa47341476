"""The emulator's rule for every SageMaker operation moto serves: computed, failed as AWS, bookkeeping or refused.

The operations are read from moto itself (the actions its SageMaker response class answers),
so a moto upgrade that serves a new one fails here until it is classified in
``scones.emulator.sagemaker.operations``.
"""

from __future__ import annotations

import json
import time

import botocore.session
import pytest
import requests
from botocore.exceptions import ClientError
from moto.core.responses import method_names_from_class
from moto.core.utils import camelcase_to_underscores
from moto.sagemaker.responses import SageMakerResponse

from scones.emulator.sagemaker import operations
from scones.emulator.sagemaker.responses import SageMakerEmulatorResponse
from tests.emulator_sagemaker.conftest import TEST_ROLE, unique

SAGEMAKER = botocore.session.get_session().get_service_model("sagemaker")


def served_by(response_class: type) -> set[str]:
    """The API operations a moto response class answers (its call_action dispatches on the method name)."""
    methods = set(method_names_from_class(response_class))
    return {op for op in SAGEMAKER.operation_names if camelcase_to_underscores(op) in methods}


MOTO_SERVES = served_by(SageMakerResponse)
EMULATOR_SERVES = served_by(SageMakerEmulatorResponse)


def test_every_operation_moto_serves_is_classified_once() -> None:
    assert len(MOTO_SERVES) > 100  # read from moto, not an empty walk
    tables = [
        set(operations.COMPUTED),
        set(operations.FAILS_AS_AWS),
        set(operations.REFUSED),
        set(operations.BOOKKEEPING),
    ]
    for i, table in enumerate(tables):
        for other in tables[i + 1 :]:
            assert not table & other, table & other
    unclassified = unclassified_in(EMULATOR_SERVES)
    assert not unclassified, f"classify these in scones.emulator.sagemaker.operations: {unclassified}"
    # Nothing classified that neither moto nor the emulator serves (a stale table hides a change).
    assert set().union(*tables) <= EMULATOR_SERVES
    assert operations.ADDED == EMULATOR_SERVES - MOTO_SERVES


def unclassified_in(served: set[str]) -> list[str]:
    unclassified = []
    for op in sorted(served):
        try:
            operations.classify(op)
        except KeyError:
            unclassified.append(op)
    return unclassified


def test_a_moto_upgrade_serving_a_new_operation_is_caught() -> None:
    """As if moto's response class grew a method: the walk finds it unclassified."""
    upgraded = type("UpgradedResponse", (SageMakerEmulatorResponse,), {"create_auto_ml_job": lambda self: None})
    assert unclassified_in(served_by(upgraded)) == ["CreateAutoMLJob"]


def call(emulator, operation: str, body: dict | None = None) -> requests.Response:
    """A raw SageMaker JSON request, as any SDK sends it (no client-side validation in the way)."""
    return requests.post(
        emulator.endpoint_url + "/",
        data=json.dumps(body or {}),
        headers={
            "X-Amz-Target": f"SageMaker.{operation}",
            "Content-Type": "application/x-amz-json-1.1",
            "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20250101/us-east-1/sagemaker/aws4_request, "
            "SignedHeaders=host, Signature=x",
        },
        timeout=10,
    )


@pytest.mark.parametrize("operation", sorted(operations.REFUSED))
def test_a_refused_operation_is_a_400_naming_it_and_what_is_supported(emulator, operation) -> None:
    started = time.monotonic()
    answer = call(emulator, operation, {"Name": "x"})
    assert time.monotonic() - started < 5  # at once, no retry
    assert answer.status_code == 400
    error = answer.json()
    assert error["__type"].endswith("UnsupportedOperation")
    message = error.get("message") or error["Message"]
    assert operation in message and "CreateTrainingJob" in message


def test_operations_moto_does_not_serve_are_a_400_not_an_html_500(emulator) -> None:
    unserved = sorted(set(SAGEMAKER.operation_names) - EMULATOR_SERVES)
    assert "CreateAutoMLJob" in unserved and len(unserved) > 200
    for operation in unserved:
        answer = call(emulator, operation)
        assert answer.status_code == 400, (operation, answer.text[:200])
        error = answer.json()
        assert operation in (error.get("message") or error["Message"]), operation


def test_the_sdk_sees_a_refusal_as_a_client_error_without_retries(sm) -> None:
    with pytest.raises(ClientError) as refused:
        sm.create_auto_ml_job(
            AutoMLJobName="x",
            RoleArn=TEST_ROLE,
            OutputDataConfig={"S3OutputPath": "s3://b/o"},
            InputDataConfig=[
                {
                    "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://b/i"}},
                    "TargetAttributeName": "y",
                }
            ],
        )
    assert refused.value.response["Error"]["Code"] == "UnsupportedOperation"
    assert refused.value.response["ResponseMetadata"]["RetryAttempts"] == 0
    with pytest.raises(ClientError, match="runs no SageMaker Pipelines"):
        sm.start_pipeline_execution(PipelineName="p", ClientRequestToken="t" * 32)


def test_a_processing_job_fails_saying_why(sm) -> None:
    name = unique("processing")
    image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/no-such-image:latest"
    sm.create_processing_job(
        ProcessingJobName=name,
        RoleArn=TEST_ROLE,
        AppSpecification={"ImageUri": image},
        ProcessingResources={"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 5}},
    )

    described = sm.describe_processing_job(ProcessingJobName=name)

    assert described["ProcessingJobStatus"] == "Failed"
    assert image in described["FailureReason"] and "runs no processing containers" in described["FailureReason"]
    with pytest.raises(ClientError, match="in status Failed"):
        sm.stop_processing_job(ProcessingJobName=name)
    with pytest.raises(ClientError, match="already exists"):
        sm.create_processing_job(
            ProcessingJobName=name,
            RoleArn=TEST_ROLE,
            AppSpecification={"ImageUri": image},
            ProcessingResources={
                "ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 5}
            },
        )


def test_an_unknown_service_is_a_400_naming_it(emulator) -> None:
    import boto3

    ecr_public = boto3.client("ecr-public", endpoint_url=emulator.endpoint_url, region_name="us-east-1")
    with pytest.raises(ClientError) as refused:
        ecr_public.get_authorization_token()
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert refused.value.response["Error"]["Code"] == "UnknownService"
    assert "ecr-public" in refused.value.response["Error"]["Message"]


def test_an_action_moto_lacks_on_another_service_is_a_400_in_its_protocol(emulator) -> None:
    import boto3

    sqs = boto3.client("sqs", endpoint_url=emulator.endpoint_url, region_name="us-east-1")
    with pytest.raises(ClientError) as refused:
        sqs.list_message_move_tasks(SourceArn="arn:aws:sqs:us-east-1:123456789012:q")
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "sqs:ListMessageMoveTasks" in refused.value.response["Error"]["Message"]


def test_update_endpoint_weights_moves_the_traffic(sm, runtime, model_name, small_dataset) -> None:
    from tests.emulator_sagemaker.cifar_subset import png
    from tests.emulator_sagemaker.conftest import in_service

    config, endpoint = unique("weights-config"), unique("weights")
    variant = {"ModelName": model_name, "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}
    sm.create_endpoint_config(
        EndpointConfigName=config,
        ProductionVariants=[
            {**variant, "VariantName": "A", "InitialVariantWeight": 1.0},
            {**variant, "VariantName": "B", "InitialVariantWeight": 0.0},
        ],
    )
    sm.create_endpoint(EndpointName=endpoint, EndpointConfigName=config)
    in_service(sm, endpoint)
    body = png(small_dataset.validation.images[0])

    def served_by() -> set[str]:
        return {
            runtime.invoke_endpoint(EndpointName=endpoint, ContentType="image/png", Body=body)[
                "InvokedProductionVariant"
            ]
            for _ in range(10)
        }

    assert served_by() == {"A"}
    sm.update_endpoint_weights_and_capacities(
        EndpointName=endpoint,
        DesiredWeightsAndCapacities=[
            {"VariantName": "A", "DesiredWeight": 0.0},
            {"VariantName": "B", "DesiredWeight": 1.0},
        ],
    )
    assert served_by() == {"B"}
    weights = {
        v["VariantName"]: v["CurrentWeight"] for v in sm.describe_endpoint(EndpointName=endpoint)["ProductionVariants"]
    }
    assert weights == {"A": 0.0, "B": 1.0}
    sm.delete_endpoint(EndpointName=endpoint)


def test_every_operation_served_answers_an_incomplete_request_with_a_validation_error(emulator) -> None:
    """What SageMaker says to a request without its required members; moto crashed on 17 of them (HTML 500)."""
    for operation in sorted(EMULATOR_SERVES):
        answer = call(emulator, operation)
        assert answer.status_code < 500 and "json" in answer.headers["Content-Type"], (operation, answer.text[:200])
    error = call(emulator, "AddTags").json()
    assert error["__type"].endswith("ValidationException")
    assert 'Missing required parameter in input: "ResourceArn"' in (error.get("message") or error["Message"])


def test_a_crash_in_moto_is_an_aws_error_naming_it_not_an_html_page(emulator) -> None:
    import boto3
    from botocore.config import Config

    sm = boto3.client(
        "sagemaker",
        endpoint_url=emulator.endpoint_url,
        region_name="us-east-1",
        config=Config(retries={"total_max_attempts": 1}),
    )
    with pytest.raises(ClientError) as failed:  # moto 5.2.5 dereferences the missing model (AttributeError)
        sm.list_tags(ResourceArn="arn:aws:sagemaker:us-east-1:123456789012:model/no-such-model")
    response = failed.value.response
    if response["ResponseMetadata"]["HTTPStatusCode"] >= 500:  # until moto answers it properly
        assert response["Error"]["Code"] == "InternalFailure"
        assert "sagemaker:ListTags" in response["Error"]["Message"]
    assert "<html" not in response["Error"]["Message"]


def test_a_request_moto_cannot_parse_is_a_json_internal_failure_not_an_html_500(emulator) -> None:
    """Content-Encoding: gzip over a body that is not gzip fails before moto has the action: still JSON."""
    answer = requests.post(
        emulator.endpoint_url + "/",
        data=b'{"MaxResults": 1}',
        headers={
            "X-Amz-Target": "SageMaker.ListModels",
            "Content-Type": "application/x-amz-json-1.1",
            "Content-Encoding": "gzip",
            "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20250101/us-east-1/sagemaker/aws4_request, "
            "SignedHeaders=host, Signature=x",
        },
        timeout=10,
    )
    assert answer.status_code == 500
    assert "json" in answer.headers["Content-Type"] and "<html" not in answer.text.lower()
    error = answer.json()
    assert error["__type"] == "InternalFailure" and "may be partly done" in error["message"]


def test_sagemakers_api_model_is_parsed_once_for_every_action_validated(monkeypatch) -> None:
    """Each action's first request asked a new botocore session for SageMaker's 2.5 MB API model,
    which it parsed again (0.3 s of CPU each; the test process shares parsed models, the emulator
    does not)."""
    import botocore.session

    from scones.emulator.sagemaker import responses

    asked = []
    get_service_model = botocore.session.Session.get_service_model

    def counting(self, service_name, api_version=None):
        asked.append(service_name)
        return get_service_model(self, service_name, api_version)

    monkeypatch.setattr(botocore.session.Session, "get_service_model", counting)
    for cached in (responses._input_shape, getattr(responses, "_service_model", None)):
        if cached is not None:
            cached.cache_clear()
    actions = ("CreateModel", "DescribeEndpoint", "ListModels")
    problems = [responses._validation_problems(action, "{}") for action in actions]
    assert "ModelName" in problems[0] and "EndpointName" in problems[1] and problems[2] == ""
    assert asked == ["sagemaker"]
