"""Endpoints load the model, InvokeEndpoint predicts, UpdateEndpoint swaps without dropping requests."""

from __future__ import annotations

import io
import json
import threading
import time

import pytest
from botocore.exceptions import ClientError

from tests.emulator_sagemaker.cifar_subset import png
from tests.emulator_sagemaker.conftest import TEST_IMAGE, TEST_ROLE, endpoint_config, in_service, unique, wait_for


def jpeg(image) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=95)
    return buffer.getvalue()


def probabilities(runtime, endpoint: str, body: bytes, content_type: str = "image/png") -> tuple[list[float], str]:
    answer = runtime.invoke_endpoint(EndpointName=endpoint, ContentType=content_type, Body=body)
    assert answer["ContentType"] == "application/json"
    return json.loads(answer["Body"].read()), answer["InvokedProductionVariant"]


@pytest.mark.parametrize(
    "instance_type",
    [
        "ml.m5.large",
        "ml.c5.xlarge",
        "ml.g4dn.xlarge",
        "ml.g5.2xlarge",
        "ml.p3.2xlarge",
        "ml.c6i.large",
        "ml.inf2.xlarge",
    ],
)
def test_current_instance_types_are_accepted(sm, model_name, instance_type) -> None:
    name = endpoint_config(sm, model_name, instance_type=instance_type)
    described = sm.describe_endpoint_config(EndpointConfigName=name)
    assert described["ProductionVariants"][0]["InstanceType"] == instance_type


def test_an_unknown_instance_type_is_refused(sm, model_name) -> None:
    with pytest.raises(ClientError) as error:
        endpoint_config(sm, model_name, instance_type="ml.z9.huge")
    assert error.value.response["Error"]["Code"] == "ValidationException"
    assert "ml.z9.huge" in error.value.response["Error"]["Message"]


def test_an_endpoint_is_creating_then_in_service(sm, model_name) -> None:
    name = unique("bikes-create")
    sm.create_endpoint(EndpointName=name, EndpointConfigName=endpoint_config(sm, model_name))
    assert sm.describe_endpoint(EndpointName=name)["EndpointStatus"] == "Creating"
    described = in_service(sm, name)
    variant = described["ProductionVariants"][0]
    assert variant["VariantName"] == "AllTraffic" and variant["CurrentInstanceCount"] == 1
    assert variant["DeployedImages"][0]["SpecifiedImage"] == TEST_IMAGE
    assert "FailureReason" not in described
    with pytest.raises(ClientError, match="Cannot create already existing endpoint"):
        # the provider's SageMakerEndpointOperator relies on this message to switch to an update
        sm.create_endpoint(EndpointName=name, EndpointConfigName=described["EndpointConfigName"])


def test_predicts_probabilities_in_label_order(runtime, endpoint, small_dataset) -> None:
    images, labels = small_dataset.validation.images, small_dataset.validation.labels
    correct = 0
    for image, label in zip(images, labels, strict=True):
        p, variant = probabilities(runtime, endpoint, png(image))
        assert len(p) == 2 and sum(p) == pytest.approx(1.0, abs=1e-5) and all(0 <= v <= 1 for v in p)
        assert variant == "AllTraffic"
        correct += int(max(range(2), key=p.__getitem__) == label)
    assert correct / len(labels) >= 0.7  # label 0 = bicycle, 1 = motorcycle, as in the .lst


@pytest.mark.parametrize("content_type", ["image/jpeg", "application/x-image"])
def test_accepts_jpeg_and_x_image(runtime, endpoint, small_dataset, content_type) -> None:
    image = small_dataset.validation.images[0]
    from_png, _ = probabilities(runtime, endpoint, png(image))
    from_jpeg, _ = probabilities(runtime, endpoint, jpeg(image), content_type)
    assert from_jpeg == pytest.approx(from_png, abs=0.15)  # same picture, lossy encoding


def test_an_undecodable_payload_is_a_model_error_and_the_emulator_lives_on(runtime, endpoint, small_dataset) -> None:
    for body in (b"\x89PNG\r\n\x1a\n but truncated", b"not an image at all", b""):
        with pytest.raises(ClientError) as error:
            runtime.invoke_endpoint(EndpointName=endpoint, ContentType="image/png", Body=body)
        assert error.value.response["Error"]["Code"] == "ModelError"
        assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 424  # as SageMaker
        assert error.value.response["OriginalStatusCode"] == 400
    p, _ = probabilities(runtime, endpoint, png(small_dataset.validation.images[0]))  # still serving
    assert len(p) == 2


def test_an_unsupported_content_type_is_a_model_error(runtime, endpoint) -> None:
    with pytest.raises(ClientError) as error:
        runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=b"1,2,3")
    assert error.value.response["Error"]["Code"] == "ModelError"
    assert error.value.response["OriginalStatusCode"] == 415


def test_a_body_over_6_mb_is_refused_as_sagemaker_refuses_it(runtime, endpoint, small_dataset) -> None:
    limit = 6 * 1024 * 1024
    image = png(small_dataset.validation.images[0])
    with pytest.raises(ClientError) as error:
        runtime.invoke_endpoint(
            EndpointName=endpoint, ContentType="image/png", Body=image + b"\0" * (limit + 1 - len(image))
        )
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413
    assert error.value.response["Error"]["Message"] == f"HTTP content length exceeded {limit} bytes."
    p, _ = probabilities(runtime, endpoint, image + b"\0" * (limit - len(image)))  # exactly 6 MB: served
    assert len(p) == 2


def test_an_unknown_endpoint_is_a_validation_error(runtime) -> None:
    with pytest.raises(ClientError) as error:
        runtime.invoke_endpoint(EndpointName="no-such-endpoint", ContentType="image/png", Body=b"x")
    assert error.value.response["Error"]["Code"] == "ValidationError"
    assert "no-such-endpoint" in error.value.response["Error"]["Message"]


def test_a_missing_artifact_fails_the_endpoint(sm, trained_job) -> None:
    model = unique("no-artifact")
    missing = trained_job["ModelArtifacts"]["S3ModelArtifacts"].replace("/output/", "/nowhere/")
    sm.create_model(
        ModelName=model, PrimaryContainer={"Image": TEST_IMAGE, "ModelDataUrl": missing}, ExecutionRoleArn=TEST_ROLE
    )
    name = unique("bikes-broken")
    sm.create_endpoint(EndpointName=name, EndpointConfigName=endpoint_config(sm, model))
    failed = wait_for(lambda: (d := sm.describe_endpoint(EndpointName=name))["EndpointStatus"] != "Creating" and d)
    assert failed["EndpointStatus"] == "Failed"
    assert "Failed to download model data" in failed["FailureReason"] and missing in failed["FailureReason"]
    with pytest.raises(Exception, match="Failed"):  # the waiter stops on Failed, as against AWS
        sm.get_waiter("endpoint_in_service").wait(EndpointName=name, WaiterConfig={"Delay": 1})


def hammer(
    runtime, endpoint: str, body: bytes, stop: threading.Event, variants: list[str], errors: list[Exception]
) -> None:
    while not stop.is_set():
        try:
            variants.append(probabilities(runtime, endpoint, body)[1])
        except Exception as exc:  # every failed request is a dropped request
            errors.append(exc)


def updated(sm, runtime, endpoint: str, new_config: str, body: bytes) -> tuple[dict, list[str], list[Exception]]:
    """UpdateEndpoint while two threads keep invoking; the final description, variants seen, errors."""
    stop, variants, errors = threading.Event(), [], []
    threads = [
        threading.Thread(target=hammer, args=(runtime, endpoint, body, stop, variants, errors)) for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    try:
        time.sleep(0.3)
        sm.update_endpoint(EndpointName=endpoint, EndpointConfigName=new_config)
        assert sm.describe_endpoint(EndpointName=endpoint)["EndpointStatus"] == "Updating"
        final = in_service(sm, endpoint)
        time.sleep(0.3)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    return final, variants, errors


def test_update_swaps_models_without_dropping_requests(sm, runtime, model_name, small_dataset) -> None:
    name = unique("bikes-update")
    first = endpoint_config(sm, model_name, variant="Blue")
    sm.create_endpoint(EndpointName=name, EndpointConfigName=first)
    in_service(sm, name)
    second = endpoint_config(sm, model_name, variant="Green", instance_type="ml.g5.xlarge")
    final, variants, errors = updated(sm, runtime, name, second, png(small_dataset.validation.images[0]))
    assert errors == []
    assert final["EndpointConfigName"] == second and "FailureReason" not in final
    assert final["ProductionVariants"][0]["VariantName"] == "Green"
    assert variants[0] == "Blue" and variants[-1] == "Green" and set(variants) == {"Blue", "Green"}


def test_a_failed_update_keeps_the_old_model_serving(sm, runtime, model_name, trained_job, small_dataset) -> None:
    name = unique("bikes-rollback")
    first = endpoint_config(sm, model_name, variant="Blue")
    sm.create_endpoint(EndpointName=name, EndpointConfigName=first)
    in_service(sm, name)
    broken = unique("no-artifact")
    missing = trained_job["ModelArtifacts"]["S3ModelArtifacts"].replace("model.tar.gz", "missing.tar.gz")
    sm.create_model(
        ModelName=broken, PrimaryContainer={"Image": TEST_IMAGE, "ModelDataUrl": missing}, ExecutionRoleArn=TEST_ROLE
    )
    final, variants, errors = updated(
        sm, runtime, name, endpoint_config(sm, broken, variant="Green"), png(small_dataset.validation.images[0])
    )
    assert errors == []
    assert final["EndpointStatus"] == "InService"  # rolled back, as SageMaker does
    assert final["EndpointConfigName"] == first
    assert "Failed to download model data" in final["FailureReason"]
    assert set(variants) == {"Blue"}


def test_update_of_an_unknown_endpoint_is_refused(sm, model_name) -> None:
    with pytest.raises(ClientError) as error:
        sm.update_endpoint(EndpointName="no-such-endpoint", EndpointConfigName=endpoint_config(sm, model_name))
    assert error.value.response["Error"]["Code"] == "ValidationException"


def test_provider_hook_creates_and_updates_an_endpoint(emulator, monkeypatch, sm, model_name) -> None:
    from airflow.providers.amazon.aws.hooks.sagemaker import SageMakerHook

    extra = {"endpoint_url": emulator.endpoint_url, "region_name": "us-east-1"}
    monkeypatch.setenv(
        "AIRFLOW_CONN_AWS_DEFAULT",
        json.dumps({"conn_type": "aws", "login": "testing", "password": "testing", "extra": extra}),
    )
    hook = SageMakerHook(aws_conn_id="aws_default")
    name = unique("bikes-hook")
    hook.create_endpoint(
        {"EndpointName": name, "EndpointConfigName": endpoint_config(sm, model_name)}, check_interval=1
    )
    second = endpoint_config(sm, model_name, variant="Green")
    hook.update_endpoint({"EndpointName": name, "EndpointConfigName": second}, check_interval=1)
    described = hook.describe_endpoint(name)
    assert described["EndpointStatus"] == "InService" and described["EndpointConfigName"] == second
