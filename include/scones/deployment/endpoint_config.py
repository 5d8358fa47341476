"""Boto-shaped configs for CreateModel, CreateEndpointConfig and Create/UpdateEndpoint.

Every night's model and endpoint config get fresh names (derived from the training job) and
the endpoint keeps one stable name, so the provider's SageMakerEndpointOperator creates it the
first night and updates it in place (blue/green) after that.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scones.names import ResourceNames

VARIANT = "AllTraffic"
model_name = ResourceNames.model
endpoint_config_name = ResourceNames.endpoint_config


def data_capture_config(destination_uri: str, sampling_percentage: int, kms_key_id: str = "") -> dict[str, Any]:
    """Capture requests and responses (images are base64, answers JSON) to ``destination_uri``."""
    config: dict[str, Any] = {
        "EnableCapture": True,
        "InitialSamplingPercentage": sampling_percentage,
        "DestinationS3Uri": destination_uri,
        "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        "CaptureContentTypeHeader": {"JsonContentTypes": ["application/json"]},
    }
    if kms_key_id:
        config["KmsKeyId"] = kms_key_id
    return config


def deployment_config(
    *,
    job_name: str,
    image: str,
    model_data_url: str,
    role_arn: str,
    endpoint_name: str,
    instance_type: str,
    capture_uri: str,
    sampling_percentage: int,
    kms_key_id: str = "",
) -> dict[str, Any]:
    """The ``config`` of SageMakerEndpointOperator: Model, EndpointConfig and Endpoint."""
    model = model_name(job_name)
    config_name = endpoint_config_name(job_name)
    return {
        "Model": {
            "ModelName": model,
            "PrimaryContainer": {"Image": image, "ModelDataUrl": model_data_url},
            "ExecutionRoleArn": role_arn,
        },
        "EndpointConfig": {
            "EndpointConfigName": config_name,
            "ProductionVariants": [
                {
                    "VariantName": VARIANT,
                    "ModelName": model,
                    "InitialInstanceCount": 1,
                    "InstanceType": instance_type,
                    "InitialVariantWeight": 1.0,
                }
            ],
            "DataCaptureConfig": data_capture_config(capture_uri, sampling_percentage, kms_key_id),
        },
        "Endpoint": {"EndpointName": endpoint_name, "EndpointConfigName": config_name},
    }


def deployment_config_for(
    settings: Any, training_job: Mapping[str, Any], prepared: Mapping[str, Any]
) -> dict[str, Any]:
    """The config of this run's deployment: its trained model (a DescribeTrainingJob answer: the
    job's final name, even if a retry renamed it) on the settings' endpoint, data capture on.

    :param prepared: ``image`` and ``role_arn``, as ``prepare_training_config`` returned them.
    """
    return deployment_config(
        job_name=training_job["TrainingJobName"],
        image=prepared["image"],
        model_data_url=training_job["ModelArtifacts"]["S3ModelArtifacts"],
        role_arn=prepared["role_arn"],
        endpoint_name=settings.endpoint_name,
        instance_type=settings.endpoint_instance_type,
        capture_uri=settings.data_capture_uri,
        sampling_percentage=settings.data_capture_sampling_percentage,
        kms_key_id=settings.data_capture_kms_key_id,
    )
