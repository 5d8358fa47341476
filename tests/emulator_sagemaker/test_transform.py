"""Batch transform runs for real: .out files as the algorithm writes them, its options honoured, failures named."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.emulator_sagemaker.cifar_subset import png
from tests.emulator_sagemaker.conftest import TEST_ROLE, unique, wait_for


def transform_request(name: str, model: str, source: dict, output: str, **extra) -> dict:
    return {
        "TransformJobName": name,
        "ModelName": model,
        "TransformInput": {
            "DataSource": {"S3DataSource": source},
            "ContentType": "application/x-image",
            **extra.pop("transform_input", {}),
        },
        "TransformOutput": {"S3OutputPath": output, **extra.pop("transform_output", {})},
        "TransformResources": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
        **extra,
    }


def finished_transform(sm, name: str) -> dict:
    return wait_for(
        lambda: (
            (d := sm.describe_transform_job(TransformJobName=name))["TransformJobStatus"]
            not in ("InProgress", "Stopping")
            and d
        )
    )


def read_out(s3, bucket: str, key: str) -> bytes:
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def test_a_prefix_of_images_is_classified_into_out_files(sm, s3, runtime, small_dataset, model_name, endpoint) -> None:
    bucket, name = small_dataset.bucket, unique("transform-prefix")
    source = {"S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/{small_dataset.prefix}/validation/"}
    sm.create_transform_job(
        **transform_request(
            name,
            model_name,
            source,
            f"s3://{bucket}/out/{name}/",
            MaxConcurrentTransforms=4,
            BatchStrategy="SingleRecord",
        )
    )
    assert sm.describe_transform_job(TransformJobName=name)["TransformJobStatus"] == "InProgress"

    done = finished_transform(sm, name)

    assert done["TransformJobStatus"] == "Completed", done.get("FailureReason")
    assert "FailureReason" not in done and done["TransformStartTime"] <= done["TransformEndTime"]
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=f"out/{name}/")["Contents"]
    validation = small_dataset.validation
    expected = {
        f"out/{name}/{['bicycle', 'motorcycle'][label]}/{file}.out"
        for label, file in zip(validation.labels, validation.filenames, strict=True)
    }
    assert {o["Key"] for o in listed} == expected  # one .out per image, named after it, below S3OutputPath
    correct = 0
    for label, file in zip(validation.labels, validation.filenames, strict=True):
        folder = ["bicycle", "motorcycle"][label]
        probabilities = json.loads(read_out(s3, bucket, f"out/{name}/{folder}/{file}.out"))
        assert len(probabilities) == 2 and sum(probabilities) == pytest.approx(1.0, abs=1e-5)
        correct += probabilities.index(max(probabilities)) == label
    assert correct / len(validation.labels) >= 0.6  # the trained model, not noise
    # The same model answers the same image the same way online and in batch.
    first = validation.images[0]
    online = json.loads(
        runtime.invoke_endpoint(EndpointName=endpoint, ContentType="image/png", Body=png(first))["Body"].read()
    )
    folder = ["bicycle", "motorcycle"][validation.labels[0]]
    assert json.loads(read_out(s3, bucket, f"out/{name}/{folder}/{validation.filenames[0]}.out")) == pytest.approx(
        online, abs=1e-6
    )


def test_a_manifest_with_jsonlines_assembled_by_line(sm, s3, small_dataset, model_name) -> None:
    bucket, name = small_dataset.bucket, unique("transform-manifest")
    validation = small_dataset.validation
    chosen = [
        f"{['bicycle', 'motorcycle'][label]}/{file}"
        for label, file in zip(validation.labels[:3], validation.filenames[:3], strict=True)
    ]
    manifest_key = f"manifests/{name}.json"
    s3.put_object(
        Bucket=bucket,
        Key=manifest_key,
        Body=json.dumps([{"prefix": f"s3://{bucket}/{small_dataset.prefix}/validation/"}, *chosen]),
    )
    source = {"S3DataType": "ManifestFile", "S3Uri": f"s3://{bucket}/{manifest_key}"}
    sm.create_transform_job(
        **transform_request(
            name,
            model_name,
            source,
            f"s3://{bucket}/out/{name}",
            transform_output={"Accept": "application/jsonlines", "AssembleWith": "Line"},
        )
    )

    done = finished_transform(sm, name)

    assert done["TransformJobStatus"] == "Completed", done.get("FailureReason")
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=f"out/{name}/")["Contents"]}
    assert keys == {f"out/{name}/{relative}.out" for relative in chosen}  # only what the manifest lists
    body = read_out(s3, bucket, f"out/{name}/{chosen[0]}.out").decode()
    assert body.endswith("\n") and body.count("\n") == 1
    assert len(json.loads(body)["prediction"]) == 2


def test_a_record_over_max_payload_fails_the_job(sm, s3, small_dataset, model_name) -> None:
    bucket, name = small_dataset.bucket, unique("transform-payload")
    s3.put_object(Bucket=bucket, Key=f"big/{name}/huge.png", Body=b"\x89PNG" + b"\0" * (1024 * 1024 + 1))
    source = {"S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/big/{name}/"}
    sm.create_transform_job(
        **transform_request(name, model_name, source, f"s3://{bucket}/out/{name}/", MaxPayloadInMB=1)
    )

    done = finished_transform(sm, name)

    assert done["TransformJobStatus"] == "Failed"
    assert "MaxPayloadInMB" in done["FailureReason"] and "huge.png" in done["FailureReason"]


def test_split_type_line_splits_the_images_and_the_model_rejects_the_pieces(sm, small_dataset, model_name) -> None:
    bucket, name = small_dataset.bucket, unique("transform-line")
    source = {"S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/{small_dataset.prefix}/validation/bicycle/"}
    sm.create_transform_job(
        **transform_request(
            name, model_name, source, f"s3://{bucket}/out/{name}/", transform_input={"SplitType": "Line"}
        )
    )

    done = finished_transform(sm, name)

    assert done["TransformJobStatus"] == "Failed"
    assert "SplitType Line" in done["FailureReason"] and "unable to decode" in done["FailureReason"]


def test_another_algorithm_s_model_fails_with_the_reason(sm, small_dataset, trained_job) -> None:
    model, name = unique("knn-model"), unique("transform-knn")
    sm.create_model(
        ModelName=model,
        ExecutionRoleArn=TEST_ROLE,
        PrimaryContainer={
            "Image": "382416733822.dkr.ecr.us-east-1.amazonaws.com/knn:1",
            "ModelDataUrl": trained_job["ModelArtifacts"]["S3ModelArtifacts"],
        },
    )
    source = {"S3DataType": "S3Prefix", "S3Uri": f"s3://{small_dataset.bucket}/{small_dataset.prefix}/validation/"}
    sm.create_transform_job(**transform_request(name, model, source, f"s3://{small_dataset.bucket}/out/{name}/"))

    done = finished_transform(sm, name)

    assert done["TransformJobStatus"] == "Failed"
    assert "knn" in done["FailureReason"] and "image-classification" in done["FailureReason"]
    with pytest.raises(ClientError, match="Could not find model") as missing:
        sm.create_transform_job(**transform_request(unique("transform-none"), unique("no-model"), source, "s3://x/y/"))
    assert missing.value.response["Error"]["Code"] == "ValidationException"


def test_the_provider_transform_operator_runs_a_job(airflow_aws_connection, s3, small_dataset, model_name) -> None:
    from airflow.providers.amazon.aws.operators.sagemaker import SageMakerTransformOperator

    bucket, name = small_dataset.bucket, unique("transform-operator")
    source = {"S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/{small_dataset.prefix}/validation/motorcycle/"}
    operator = SageMakerTransformOperator(
        task_id="transform_images",
        config=transform_request(name, model_name, source, f"s3://{bucket}/out/{name}/"),
        wait_for_completion=True,
        check_interval=1,
    )

    result = operator.execute({})

    assert result["Transform"]["TransformJobStatus"] == "Completed"
    outputs = s3.list_objects_v2(Bucket=bucket, Prefix=f"out/{name}/")["KeyCount"]  # below the input prefix: no folder
    assert outputs == int((small_dataset.validation.labels == 1).sum())


def test_the_provider_transform_operator_fails_the_task_on_a_failed_job(airflow_aws_connection, small_dataset) -> None:
    from airflow.providers.amazon.aws.operators.sagemaker import SageMakerTransformOperator

    model, name = unique("xgb-model"), unique("transform-xgb")
    config = transform_request(
        name,
        model,
        {"S3DataType": "S3Prefix", "S3Uri": f"s3://{small_dataset.bucket}/{small_dataset.prefix}/"},
        f"s3://{small_dataset.bucket}/out/{name}/",
    )
    config = {
        "Model": {
            "ModelName": model,
            "ExecutionRoleArn": TEST_ROLE,
            "PrimaryContainer": {
                "Image": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
                "ModelDataUrl": f"s3://{small_dataset.bucket}/nothing.tar.gz",
            },
        },
        "Transform": config,
    }
    operator = SageMakerTransformOperator(task_id="transform_images", config=config, check_interval=1)

    with pytest.raises(Exception, match="image-classification"):
        operator.execute({})


def test_a_transform_can_be_stopped(sm, s3, small_dataset, model_name) -> None:
    bucket, name = small_dataset.bucket, unique("transform-stop")
    image = png(small_dataset.validation.images[0])
    for i in range(150):
        s3.put_object(Bucket=bucket, Key=f"many/{name}/{i:03d}.png", Body=image)
    source = {"S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/many/{name}/"}
    sm.create_transform_job(
        **transform_request(name, model_name, source, f"s3://{bucket}/out/{name}/", MaxConcurrentTransforms=1)
    )

    sm.stop_transform_job(TransformJobName=name)

    assert sm.describe_transform_job(TransformJobName=name)["TransformJobStatus"] in ("Stopping", "Stopped")
    done = finished_transform(sm, name)
    assert done["TransformJobStatus"] == "Stopped" and "FailureReason" not in done
    written = s3.list_objects_v2(Bucket=bucket, Prefix=f"out/{name}/").get("KeyCount", 0)
    assert written < 150  # it stopped before the end
    with pytest.raises(ClientError, match="in status Stopped"):
        sm.stop_transform_job(TransformJobName=name)
    with pytest.raises(ClientError, match="Could not find transform job"):
        sm.stop_transform_job(TransformJobName=unique("no-such-transform"))
