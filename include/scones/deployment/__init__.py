"""Deployment to a SageMaker endpoint: configs, the deployment record, smoke test, cleanup."""

from __future__ import annotations

from typing import Any

#: Endpoint states that end by themselves; SageMaker refuses an update meanwhile.
CHANGING = ("Creating", "Updating", "SystemUpdating", "RollingBack", "Deleting")


def not_found(error: Any) -> bool:
    """Whether a botocore ``ClientError`` is SageMaker's answer for a name it does not know:
    ValidationException "Could not find endpoint/model/endpoint configuration ..."."""
    details = error.response.get("Error", {})
    return details.get("Code") == "ValidationException" and "could not find" in details.get("Message", "").lower()


def describe_endpoint(sagemaker: Any, name: str) -> dict[str, Any] | None:
    """DescribeEndpoint's answer (``sagemaker``: a boto3 client); None if there is no such endpoint."""
    from botocore.exceptions import ClientError

    try:
        return sagemaker.describe_endpoint(EndpointName=name)
    except ClientError as exc:
        if not_found(exc):
            return None
        raise
