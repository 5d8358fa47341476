"""What is serving, recorded in S3 so the next night and the monitor can read it.

``<models prefix>/deployments/current.json`` holds the serving deployment; every deployment
is also kept under ``deployments/history/<time>-<job>.json``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


@dataclass(frozen=True)
class Deployment:
    endpoint_name: str
    training_job: str
    model_name: str
    endpoint_config: str
    model_data_url: str
    validation_accuracy: float
    classes: list[str]
    deployed_at: str  # ISO 8601, UTC
    image: str = ""
    dataset_uri: str = ""
    data_capture_uri: str = ""

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Deployment:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


def current_key(models_prefix: str) -> str:
    return f"{models_prefix.strip('/')}/deployments/current.json"


def read_current(s3: S3Client, bucket: str, models_prefix: str) -> Deployment | None:
    """The serving deployment, or None before the first one."""
    try:
        body = s3.get_object(Bucket=bucket, Key=current_key(models_prefix))["Body"].read()
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
            return None
        raise
    return Deployment.from_dict(json.loads(body))


def write_current(s3: S3Client, bucket: str, models_prefix: str, deployment: Deployment) -> list[str]:
    """Write the history entry, then ``current.json`` (readers look there first)."""
    body = json.dumps(asdict(deployment), indent=2).encode()
    stamp = deployment.deployed_at.replace(":", "").replace("-", "")
    history = f"{models_prefix.strip('/')}/deployments/history/{stamp}-{deployment.training_job}.json"
    for key in (history, current_key(models_prefix)):
        s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")
    return [history, current_key(models_prefix)]
