"""Everything the training operator needs, computed in one task."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from scones.deployment.sagemaker_role import ensure_sagemaker_role
from scones.layout import ModelsLayout
from scones.settings import Settings
from scones.training.job_config import hyperparameters, image_uri, training_config


def prepare_training_config(settings: Settings, dataset: dict[str, Any], iam: Any, now: datetime) -> dict[str, Any]:
    """Resolve the image and role, name the job, build CreateTrainingJob's request."""
    image = image_uri(settings.region)
    role_arn = settings.sagemaker_role_arn or ensure_sagemaker_role(iam, settings.names.sagemaker_role, settings.bucket)
    name = settings.names.training_job(now.strftime("%Y%m%dT%H%M%S"))
    config = training_config(
        job_name=name,
        image=image,
        role_arn=role_arn,
        dataset_uri=dataset["dataset_uri"],
        output_uri=ModelsLayout.of(settings).training_output_uri,
        dataset_version=dataset.get("dataset_version", ""),
        instance_type=settings.training_instance_type,
        hyperparameters=hyperparameters(
            num_classes=len(dataset["classes"]),
            num_training_samples=dataset["num_training_samples"],
            epochs=settings.epochs,
            learning_rate=settings.learning_rate,
            mini_batch_size=settings.mini_batch_size,
        ),
        max_runtime_seconds=settings.max_training_seconds,
    )
    return {"config": config, "image": image, "role_arn": role_arn, "job_name": name}
