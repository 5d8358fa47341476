"""What an endpoint serves: the loaded models of one endpoint config, and how to predict.

A :class:`Deployment` is immutable. Creating or updating an endpoint builds a new one
(:func:`load_deployment` reads every variant's ``model.tar.gz`` from S3), then the
endpoint's reference to it is replaced in one assignment; requests in flight finish on
the deployment they started with. That is how UpdateEndpoint drops no request.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from scones.emulator.sagemaker.capture import CaptureSettings
from scones.emulator.sagemaker.exceptions import ModelLoadFailed
from scones.emulator.sagemaker.learner import ImageClassifier, decode_image
from scones.emulator.sagemaker.storage import ObjectMissing, ObjectStore, S3Uri
from scones.emulator.sagemaker.training import ALGORITHM, algorithm_of, unpack_model

#: Request content types the image-classification algorithm's inference accepts.
IMAGE_CONTENT_TYPES = ("image/png", "image/jpeg", "application/x-image")
RESPONSE_CONTENT_TYPE = "application/json"


@dataclass(frozen=True)
class ServingVariant:
    name: str
    model_name: str
    image: str
    model: ImageClassifier
    weight: float
    instance_type: str
    instance_count: int

    def predict(self, body: bytes) -> bytes:
        """The JSON list of class probabilities, in label order, for one image.

        :raises UndecodableImage: the body is not an image
        """
        probabilities = self.model.predict_proba(decode_image(body)[np.newaxis])[0]
        return json.dumps([float(p) for p in probabilities]).encode()


@dataclass(frozen=True)
class Deployment:
    config_name: str
    variants: tuple[ServingVariant, ...]
    capture: CaptureSettings | None
    deployed_at: datetime

    def choose(self, target_variant: str | None, rng: random.Random) -> ServingVariant | None:
        """The variant named by ``target_variant``, else one drawn by weight; None if no such name."""
        if target_variant:
            return next((v for v in self.variants if v.name == target_variant), None)
        weights = [max(v.weight, 0.0) for v in self.variants]
        if sum(weights) <= 0:
            weights = [1.0] * len(self.variants)
        return rng.choices(self.variants, weights)[0]

    def describe_variants(self) -> list[dict[str, Any]]:
        return [
            {
                "VariantName": v.name,
                "DeployedImages": [
                    {"SpecifiedImage": v.image, "ResolvedImage": v.image, "ResolutionTime": self.deployed_at}
                ],
                "CurrentWeight": v.weight,
                "DesiredWeight": v.weight,
                "CurrentInstanceCount": v.instance_count,
                "DesiredInstanceCount": v.instance_count,
            }
            for v in self.variants
        ]

    def describe_capture(self) -> dict[str, Any] | None:
        return self.capture.describe() if self.capture else None


def load_deployment(
    account_id: str, region: str, endpoint_name: str, config: dict[str, Any], models: dict[str, dict[str, Any]]
) -> Deployment:
    """Load every production variant of ``config``; :class:`ModelLoadFailed` says which failed and why.

    :param config: DescribeEndpointConfig's answer
    :param models: DescribeModel's answer for each model the config names
    """
    from moto.core.utils import utcnow

    try:
        capture = CaptureSettings.from_config(config.get("DataCaptureConfig"))
    except ValueError as exc:
        raise ModelLoadFailed(f"endpoint config {config['EndpointConfigName']}: {exc}") from None
    store = ObjectStore(account_id)
    variants = []
    for spec in config.get("ProductionVariants", []):
        model = models[spec["ModelName"]]
        container = model.get("PrimaryContainer") or next(iter(model.get("Containers") or []), {})
        image = container.get("Image", "")
        if algorithm_of(image) != ALGORITHM:
            raise ModelLoadFailed(
                f"model {spec['ModelName']} uses image {image!r}; the local emulator serves only "
                f"SageMaker's built-in {ALGORITHM} models"
            )
        url = container.get("ModelDataUrl")
        if not url:
            raise ModelLoadFailed(f"model {spec['ModelName']} has no ModelDataUrl to load")
        variants.append(
            ServingVariant(
                name=spec["VariantName"],
                model_name=spec["ModelName"],
                image=image,
                model=load_model(store, url, spec["ModelName"]),
                weight=float(spec.get("InitialVariantWeight", 1.0)),
                instance_type=spec.get("InstanceType", ""),
                instance_count=int(spec.get("InitialInstanceCount", 1)),
            )
        )
    if not variants:
        raise ModelLoadFailed(f"endpoint config {config['EndpointConfigName']} has no production variant")
    return Deployment(config["EndpointConfigName"], tuple(variants), capture, utcnow())


def load_model(store: ObjectStore, url: str, model_name: str) -> ImageClassifier:
    try:
        uri = S3Uri.parse(url)
        archive = store.get(uri)
    except (ValueError, ObjectMissing) as exc:
        # SageMaker's own wording, so a runbook written against AWS matches.
        raise ModelLoadFailed(
            f"Failed to download model data for model {model_name} from {url!r}: {exc}. Please ensure that "
            "there is an object located at the URL and that the role passed to CreateModel has permissions "
            "to download the model."
        ) from None
    try:
        return unpack_model(archive)
    except ValueError as exc:
        raise ModelLoadFailed(f"model {model_name}: {url} is not a model this emulator trained: {exc}") from None
