"""What is serving, recorded in S3 so the next night and the monitor can read it.

``<models prefix>/deployments/current.json`` holds the serving deployment; every deployment
is also kept under ``deployments/history/<time>-<job>.json``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from scones.layout import ModelsLayout

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
    dataset_uri: str = ""  # the pinned version's root: s3://<bucket>/<dataset prefix>/versions/<version>
    data_capture_uri: str = ""
    dataset_version: str = ""  # the dataset version the model trained on ("" in records from before versions)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Deployment:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


def current_key(models_prefix: str) -> str:
    return ModelsLayout("", models_prefix).current_deployment_key


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
    history = ModelsLayout(bucket, models_prefix).history_key(stamp, deployment.training_job)
    for key in (history, current_key(models_prefix)):
        s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")
    return [history, current_key(models_prefix)]


def recent_deployments(s3: S3Client, bucket: str, models_prefix: str, count: int) -> list[Deployment]:
    """The ``count`` newest history entries, newest first (history keys start with the time)."""
    prefix = ModelsLayout(bucket, models_prefix).history_prefix
    keys = [
        o["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for o in page.get("Contents", [])
    ]
    newest = sorted(keys, reverse=True)[:count]
    return [Deployment.from_dict(json.loads(s3.get_object(Bucket=bucket, Key=k)["Body"].read())) for k in newest]
