"""One batch transform job over an S3 prefix of images, and its ``.out`` files as one predictions file."""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from botocore.exceptions import ClientError

from scones.errors import ConfigurationError, SconesError
from scones.names import ResourceNames

if TYPE_CHECKING:
    import boto3

#: What a transform job of the image-classification algorithm reads: one image per object.
IMAGE_CONTENT_TYPE = "application/x-image"
POLL_SECONDS = 5
READERS = 10  # concurrent GETs of the .out files: boto3 clients are thread-safe and keep 10 connections


class BacklogFailed(SconesError):
    """The batch transform job did not complete; the message carries its FailureReason."""


@dataclass(frozen=True)
class BacklogReport:
    transform_job: str
    images: int
    predictions_uri: str
    per_class: dict[str, int] = field(default_factory=dict)


def split_uri(uri: str) -> tuple[str, str]:
    parsed = urlparse(uri)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise ConfigurationError(f"{uri!r} is not an s3://bucket/key URI")
    return parsed.netloc, parsed.path.lstrip("/")


def transform_config(
    job_name: str,
    model_name: str,
    input_uri: str,
    output_uri: str,
    instance_type: str = "ml.m5.large",
    max_concurrent: int = 4,
) -> dict[str, Any]:
    """CreateTransformJob's request (what the provider's ``SageMakerTransformOperator`` takes as ``config``).

    One image per record (``SplitType`` None, ``SingleRecord``), answered as JSON probabilities.
    """
    return {
        "TransformJobName": job_name,
        "ModelName": model_name,
        "MaxConcurrentTransforms": max_concurrent,
        "MaxPayloadInMB": 6,
        "BatchStrategy": "SingleRecord",
        "TransformInput": {
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": input_uri}},
            "ContentType": IMAGE_CONTENT_TYPE,
            "SplitType": "None",
        },
        "TransformOutput": {"S3OutputPath": output_uri, "Accept": "application/json"},
        "TransformResources": {"InstanceType": instance_type, "InstanceCount": 1},
    }


def classify_backlog(
    session: boto3.Session,
    input_uri: str,
    predictions_uri: str,
    model_name: str,
    classes: list[str],
    *,
    instance_type: str = "ml.m5.large",
    max_concurrent: int = 4,
    timeout: float = 3600,
    poll: float = POLL_SECONDS,
    project: str = "scones",
) -> BacklogReport:
    """Classify every image under ``input_uri`` with ``model_name``; write the predictions to ``predictions_uri``.

    The transform job, ``<project>-backlog-<UTC time>-<random>``, writes its ``.out`` files to
    ``<predictions_uri>.transform/<job>/``; the predictions file is written once, at the end,
    and never over an existing one: checked at the start, and the write itself is conditional
    (``IfNoneMatch: *``), since another run may have written it while the job ran.

    :raises ConfigurationError: bad URIs, no image under the prefix, or the predictions file exists
    :raises BacklogFailed: the transform job failed (its FailureReason) or outlived ``timeout``
    """
    s3, sm = session.client("s3"), session.client("sagemaker")
    in_bucket, in_prefix = split_uri(input_uri)
    out_bucket, out_key = split_uri(predictions_uri)
    if not out_key or out_key.endswith("/"):
        raise ConfigurationError(
            f"{predictions_uri!r} names a folder; give the predictions file's key, e.g. .../predictions.jsonl"
        )
    if _exists(s3, out_bucket, out_key):
        raise ConfigurationError(
            f"{predictions_uri} exists; predictions are never overwritten: choose another --output"
        )
    images = _list_images(s3, in_bucket, in_prefix)
    if not images:
        raise ConfigurationError(f"no image under {input_uri}")
    # <project>-backlog-*: the name the Airflow credentials' policy lets them create (scones aws-policy).
    # The random part: two runs started in the same second must not share a job (or its .out files).
    job = f"{ResourceNames(project).backlog_job_prefix}{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}-{uuid.uuid4().hex[:6]}"
    work_uri = f"s3://{out_bucket}/{out_key}.transform/{job}/"
    sm.create_transform_job(**transform_config(job, model_name, input_uri, work_uri, instance_type, max_concurrent))
    _wait(sm, job, timeout, poll)
    base = in_prefix.rsplit("/", 1)[0] + "/" if "/" in in_prefix else ""  # as SageMaker names the outputs
    _, work_prefix = split_uri(work_uri)

    def read(key: str) -> dict[str, Any]:
        out = s3.get_object(Bucket=out_bucket, Key=f"{work_prefix}{key[len(base) :]}.out")["Body"].read()
        return prediction(f"s3://{in_bucket}/{key}", json.loads(out), classes)

    with ThreadPoolExecutor(max_workers=READERS) as pool:  # small objects: the round trips dominate
        records = list(pool.map(read, images))
    per_class = Counter(record["predicted_class"] for record in records)
    lines = [json.dumps(record) for record in records]
    try:
        s3.put_object(
            Bucket=out_bucket,
            Key=out_key,
            Body=("\n".join(lines) + "\n").encode(),
            ContentType="application/jsonl",
            IfNoneMatch="*",
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in ("PreconditionFailed", "ConditionalRequestConflict"):
            raise
        raise ConfigurationError(
            f"{predictions_uri} was written by someone else while transform job {job} ran; "
            "predictions are never overwritten: its outputs stay under "
            f"{work_uri}, choose another --output and run again"
        ) from None
    return BacklogReport(job, len(images), predictions_uri, dict(sorted(per_class.items())))


def prediction(image_uri: str, probabilities: list[float], classes: list[str]) -> dict[str, Any]:
    """One line of the predictions file; the model's classes must be the ones named."""
    if len(probabilities) != len(classes):
        raise ConfigurationError(
            f"the model answers {len(probabilities)} probabilities but {len(classes)} classes "
            f"were named ({', '.join(classes)}); name the model's classes, in label order"
        )
    best = max(range(len(classes)), key=probabilities.__getitem__)
    return {
        "image": image_uri,
        "predicted_class": classes[best],
        "confidence": probabilities[best],
        "probabilities": dict(zip(classes, probabilities, strict=True)),
    }


def _wait(sm: Any, job: str, timeout: float, poll: float) -> None:
    deadline = time.monotonic() + timeout
    while (described := sm.describe_transform_job(TransformJobName=job))["TransformJobStatus"] in (
        "InProgress",
        "Stopping",
    ):
        if time.monotonic() > deadline:
            raise BacklogFailed(
                f"transform job {job} still {described['TransformJobStatus']} after {timeout:.0f} s; "
                "it goes on running: stop it with StopTransformJob, or wait for it"
            )
        time.sleep(poll)
    if described["TransformJobStatus"] != "Completed":
        raise BacklogFailed(
            f"transform job {job} ended {described['TransformJobStatus']}: "
            f"{described.get('FailureReason', 'no reason given')}"
        )


def _list_images(s3: Any, bucket: str, prefix: str) -> list[str]:
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys += [o["Key"] for o in page.get("Contents", []) if not o["Key"].endswith("/")]
    return sorted(keys)


def _exists(s3: Any, bucket: str, key: str) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return False
        raise
    return True
