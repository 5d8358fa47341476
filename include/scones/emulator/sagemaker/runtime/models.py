"""moto's sagemaker-runtime backend, with InvokeEndpoint answered by the endpoint's model."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass

from moto.sagemakerruntime.models import SageMakerRuntimeBackend

from scones.emulator.sagemaker.capture import WRITER, capture_record, utc_now
from scones.emulator.sagemaker.exceptions import ModelError, RuntimeValidationError
from scones.emulator.sagemaker.hosting import IMAGE_CONTENT_TYPES, RESPONSE_CONTENT_TYPE
from scones.emulator.sagemaker.learner import UndecodableImage

_ACCEPTED_ANSWERS = (None, "", "*/*", RESPONSE_CONTENT_TYPE)


@dataclass(frozen=True)
class Invocation:
    body: bytes
    content_type: str
    variant: str


class SageMakerRuntimeEmulatorBackend(SageMakerRuntimeBackend):
    """``invoke_endpoint`` predicts; everything else is moto's."""

    def __init__(self, region_name: str, account_id: str) -> None:
        super().__init__(region_name, account_id)
        self._random = random.Random()
        self._random_lock = threading.Lock()

    def invoke_endpoint(  # type: ignore[override]
        self,
        endpoint_name: str,
        body: bytes,
        content_type: str,
        accept: str | None = None,
        target_variant: str | None = None,
        inference_id: str | None = None,
    ) -> Invocation:
        """Classify one image with the endpoint's model; capture the exchange if sampled.

        Replaces moto's canned answers (``/moto-api/static/sagemaker/endpoint-results`` no
        longer applies to our endpoints). Example, against ``scones local-aws``::

            runtime = boto3.client("sagemaker-runtime", endpoint_url="http://127.0.0.1:5000")
            answer = runtime.invoke_endpoint(EndpointName="scones", ContentType="image/png",
                                             Body=Path("bike.png").read_bytes())
            json.loads(answer["Body"].read())  # [0.97, 0.03]: probabilities in label order

        :raises RuntimeValidationError: no such endpoint, or not InService yet
        :raises ModelError: the body is not an image, or a content type the algorithm refuses
        """
        from moto.sagemaker.models import sagemaker_backends

        endpoint = sagemaker_backends[self.account_id][self.region_name].endpoints.get(endpoint_name)
        if endpoint is None:
            raise RuntimeValidationError(f"Endpoint {endpoint_name} of account {self.account_id} not found.")
        deployment = getattr(endpoint, "deployment", None)  # read once: an update may swap it meanwhile
        if deployment is None:
            raise RuntimeValidationError(
                f"Endpoint {endpoint_name} is not ready to serve (status {endpoint.endpoint_status}); "
                "wait for InService (waiter endpoint_in_service)."
            )
        with self._random_lock:
            variant = deployment.choose(target_variant, self._random)
        if variant is None:
            raise RuntimeValidationError(f"Endpoint {endpoint_name} has no production variant {target_variant!r}.")
        media_type = content_type.split(";", 1)[0].strip().lower()
        if media_type not in IMAGE_CONTENT_TYPES:
            raise ModelError(
                f"Content type {content_type!r} is not supported by the image-classification "
                f"algorithm; send one of {', '.join(IMAGE_CONTENT_TYPES)}",
                status=415,
            )
        if accept not in _ACCEPTED_ANSWERS:
            raise ModelError(
                f"Accept {accept!r} is not supported; the model answers {RESPONSE_CONTENT_TYPE}", status=406
            )
        at = utc_now()
        try:
            answer = variant.predict(body)
        except UndecodableImage as exc:
            raise ModelError(f"Unable to decode the request payload as an image: {exc}") from None
        if WRITER.sample(deployment.capture):
            line = capture_record(
                deployment.capture, content_type, body, RESPONSE_CONTENT_TYPE, answer, at, inference_id
            )
            WRITER.add(self.account_id, deployment.capture, endpoint_name, variant.name, at, line)
        return Invocation(answer, RESPONSE_CONTENT_TYPE, variant.name)
