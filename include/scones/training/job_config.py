"""Boto-shaped configs for CreateTrainingJob, built from explicit arguments.

The algorithm and its hyperparameters:
https://docs.aws.amazon.com/sagemaker/latest/dg/IC-Hyperparameter.html
Channels in "lst" mode (images plus .lst manifests, content type application/x-image):
https://docs.aws.amazon.com/sagemaker/latest/dg/image-classification.html#IC-inputoutput
"""

from __future__ import annotations

import logging
import unicodedata
from typing import Any

from scones.layout import CHANNELS

ALGORITHM = "image-classification"
#: Tag keys on the training job: which dataset version trained the model.
DATASET_VERSION_TAG = "scones:dataset-version"
DATASET_URI_TAG = "scones:dataset-uri"
#: A SageMaker tag value: at most 256 of [\p{L}\p{Z}\p{N}_.:/=+\-@] (checked only by real AWS).
MAX_TAG_VALUE = 256
_TAG_PUNCTUATION = frozenset("_.:/=+-@")

log = logging.getLogger(__name__)


def valid_tag_value(value: str) -> bool:
    """True if SageMaker accepts ``value`` as a tag value (letters, separators, numbers, ``_.:/=+-@``)."""
    return len(value) <= MAX_TAG_VALUE and all(
        ch in _TAG_PUNCTUATION or unicodedata.category(ch)[0] in "LZN" for ch in value
    )


def image_uri(region: str) -> str:
    """The algorithm's container for ``region``, resolved by the SageMaker SDK."""
    from sagemaker.core import image_uris  # slow import (seconds): only inside a task

    return image_uris.retrieve(ALGORITHM, region, version="1")


def hyperparameters(
    *,
    num_classes: int,
    num_training_samples: int,
    epochs: int,
    learning_rate: float,
    mini_batch_size: int,
    image_shape: str = "3,32,32",
) -> dict[str, str]:
    """The algorithm's hyperparameters, as the strings SageMaker passes to it."""
    if num_classes < 2:
        raise ValueError("image classification needs at least two classes")
    values: dict[str, Any] = {
        "num_classes": num_classes,
        "num_training_samples": num_training_samples,
        "image_shape": image_shape,
        "epochs": epochs,
        "learning_rate": learning_rate,
        "mini_batch_size": mini_batch_size,
        "num_layers": 18,
        "use_pretrained_model": 1,  # transfer learning: what reaches 0.83 on 1000 images
        "augmentation_type": "crop_color_transform",
        "precision_dtype": "float32",
    }
    return {k: str(v) for k, v in values.items()}


def training_config(
    *,
    job_name: str,
    image: str,
    role_arn: str,
    dataset_uri: str,
    output_uri: str,
    instance_type: str,
    hyperparameters: dict[str, str],
    max_runtime_seconds: int = 3 * 3600,
    volume_gb: int = 30,
    dataset_version: str = "",
) -> dict[str, Any]:
    """A CreateTrainingJob request reading the four channels under ``dataset_uri``.

    :param dataset_uri: one pinned version's root (``.../versions/<version>``).
    :param dataset_version: tagged on the job, so every model traces to the images it trained on.
    """
    dataset_uri = dataset_uri.rstrip("/")

    def channel(name: str) -> dict[str, Any]:
        return {
            "ChannelName": name,
            "DataSource": {
                "S3DataSource": {
                    "S3DataType": "S3Prefix",
                    "S3Uri": f"{dataset_uri}/{name}/",
                    "S3DataDistributionType": "FullyReplicated",
                }
            },
            "ContentType": "application/x-image",
            "CompressionType": "None",
        }

    return {
        "TrainingJobName": job_name,
        # Built-in algorithms publish their own metrics: MetricDefinitions stays empty.
        "AlgorithmSpecification": {"TrainingImage": image, "TrainingInputMode": "File"},
        "RoleArn": role_arn,
        "InputDataConfig": [channel(name) for name in CHANNELS],
        "OutputDataConfig": {"S3OutputPath": output_uri.rstrip("/") + "/"},
        "ResourceConfig": {"InstanceType": instance_type, "InstanceCount": 1, "VolumeSizeInGB": volume_gb},
        "StoppingCondition": {"MaxRuntimeInSeconds": max_runtime_seconds},
        "HyperParameters": hyperparameters,
        "Tags": _dataset_tags(dataset_uri, dataset_version),
    }


def _dataset_tags(dataset_uri: str, dataset_version: str) -> list[dict[str, str]]:
    """The version always (its name is a valid tag value); the URI only if SageMaker accepts it.

    An S3 prefix may hold ``~ ( ! '`` or be longer than a tag value can be: such a URI is left
    out rather than altered (a changed URI would name other objects). The job's input channels
    name the exact URI anyway, so the model still traces to its images.
    """
    tags = [{"Key": DATASET_URI_TAG, "Value": dataset_uri}] if valid_tag_value(dataset_uri) else []
    if not tags:
        log.warning(
            "not tagging the training job with %s: %r is not a valid SageMaker tag value (at most %d letters, "
            "spaces, digits or _.:/=+-@); its input channels name it",
            DATASET_URI_TAG,
            dataset_uri,
            MAX_TAG_VALUE,
        )
    if dataset_version:  # "legacy" or a VERSION_RE name: always a valid tag value
        tags.append({"Key": DATASET_VERSION_TAG, "Value": dataset_version})
    return tags
