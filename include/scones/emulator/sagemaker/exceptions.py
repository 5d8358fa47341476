"""Errors of the SageMaker plug-in.

Hierarchy::

    moto's ServiceException               answered to the client as an AWS error
    ├── ValidationError                   (moto) ValidationException, HTTP 400
    ├── ModelError                        sagemaker-runtime: the model rejected the payload, HTTP 424
    └── ResourceLimitExceeded             a request beyond one of SageMaker's service quotas, HTTP 400
    RuntimeValidationError                sagemaker-runtime: no such endpoint / not in service, HTTP 400

    EmulatorSageMakerError                raised inside the compute, never to a client directly
    ├── TrainingFailed                    becomes the job's FailureReason ("ClientError: ...")
    └── ModelLoadFailed                   becomes the endpoint's FailureReason
    learner.UndecodableImage (ValueError) a payload that is no image: becomes a ModelError
"""

from __future__ import annotations

from moto.core.exceptions import ServiceException
from moto.sagemaker.exceptions import ValidationError

from scones.emulator.sagemaker.learner.images import UndecodableImage

__all__ = [
    "EmulatorSageMakerError",
    "ModelError",
    "ModelLoadFailed",
    "ResourceLimitExceeded",
    "RuntimeValidationError",
    "TrainingFailed",
    "UndecodableImage",
    "ValidationError",
]


class ModelError(ServiceException):
    """What SageMaker answers when the container rejects a request (HTTP 424 in its model)."""

    code = "ModelError"

    def __init__(self, message: str, status: int = 400, log_stream_arn: str = "") -> None:
        super().__init__(message)
        # Members of the ModelError shape, serialized with the error like SageMaker's:
        # OriginalStatusCode is what the container answered (400 bad payload, 415 type...).
        self.OriginalStatusCode = status
        self.OriginalMessage = message
        if log_stream_arn:
            self.LogStreamArn = log_stream_arn


class ResourceLimitExceeded(ServiceException):
    """SageMaker's answer to a request beyond a service quota (ResourceLimitExceeded in its model)."""

    code = "ResourceLimitExceeded"


class RuntimeValidationError(ServiceException):
    code = "ValidationError"


class EmulatorSageMakerError(Exception):
    """Base of the errors the plug-in's compute raises."""


class TrainingFailed(EmulatorSageMakerError):
    """A training job cannot succeed; ``str(exc)`` is its FailureReason.

    ``kind`` follows SageMaker: ``ClientError`` when the request or data are wrong,
    ``AlgorithmError`` when the algorithm itself failed.
    """

    def __init__(self, message: str, kind: str = "ClientError") -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind


class TrainingStopped(EmulatorSageMakerError):
    """StopTrainingJob asked the job to stop; the training run ends where it is."""


class ModelLoadFailed(EmulatorSageMakerError):
    """A model artifact cannot be loaded for hosting; ``str(exc)`` is the FailureReason."""
