"""Boto-shaped configs for CreateModel, CreateEndpointConfig and Create/UpdateEndpoint.

Every night's model and endpoint config get fresh names (derived from the training job) and
the endpoint keeps one stable name, so the provider's SageMakerEndpointOperator creates it the
first night and updates it in place (blue/green) after that.
"""

from __future__ import annotations

from typing import Any

from scones.training.configs import MAX_NAME

VARIANT = "AllTraffic"


def model_name(job_name: str) -> str:
    return job_name[:MAX_NAME]


def endpoint_config_name(job_name: str) -> str:
    return f"{job_name[: MAX_NAME - 7]}-config"


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
            "ProductionVariants": [{
                "VariantName": VARIANT, "ModelName": model,
                "InitialInstanceCount": 1, "InstanceType": instance_type, "InitialVariantWeight": 1.0,
            }],
            "DataCaptureConfig": data_capture_config(capture_uri, sampling_percentage, kms_key_id),
        },
        "Endpoint": {"EndpointName": endpoint_name, "EndpointConfigName": config_name},
    }  # fmt: skip
