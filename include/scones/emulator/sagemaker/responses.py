"""SageMaker API responses: moto's, plus UpdateEndpoint, StopTrainingJob, StopTransformJob,
StopHyperParameterTuningJob and ListTrainingJobsForHyperParameterTuningJob (moto 5.2.5 answers
NotImplemented). The operations
of ``operations.REFUSED`` never reach here (``install()`` registers them with
``scones.emulator.unsupported.refuse``).

Every request is first checked against SageMaker's API model, as SageMaker checks it: a
missing required member or a value of the wrong type is a ValidationException naming it.
moto reads members without checking, and a request boto3 would have refused client-side
(another SDK, a raw request) crashed it with an HTTP 500.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from botocore.model import OperationNotFoundError
from botocore.validate import ParamValidator
from moto.core.responses import ActionResult
from moto.core.utils import camelcase_to_underscores
from moto.sagemaker.exceptions import ValidationError
from moto.sagemaker.responses import SageMakerResponse

from scones.emulator.sagemaker import operations


class SageMakerEmulatorResponse(SageMakerResponse):
    def call_action(self) -> Any:
        action = self._get_action()
        # Refused and unimplemented operations are answered as such, whatever the request holds.
        served = action not in operations.REFUSED and callable(getattr(self, camelcase_to_underscores(action), None))
        problems = _validation_problems(action, self.body) if served else ""
        if problems:
            return self.serialized(ActionResult(ValidationError(message=problems)))
        return super().call_action()

    def update_endpoint(self) -> ActionResult:
        arn = self.sagemaker_backend.update_endpoint(  # type: ignore[attr-defined]
            endpoint_name=self._get_param("EndpointName"),
            endpoint_config_name=self._get_param("EndpointConfigName"),
        )
        return ActionResult({"EndpointArn": arn})

    def stop_training_job(self) -> ActionResult:
        self.sagemaker_backend.stop_training_job(self._get_param("TrainingJobName"))  # type: ignore[attr-defined]
        return ActionResult({})

    def stop_transform_job(self) -> ActionResult:
        self.sagemaker_backend.stop_transform_job(self._get_param("TransformJobName"))  # type: ignore[attr-defined]
        return ActionResult({})

    def stop_hyper_parameter_tuning_job(self) -> ActionResult:
        self.sagemaker_backend.stop_hyper_parameter_tuning_job(self._get_param("HyperParameterTuningJobName"))  # type: ignore[attr-defined]
        return ActionResult({})

    def list_training_jobs_for_hyper_parameter_tuning_job(self) -> ActionResult:
        summaries = self.sagemaker_backend.list_training_jobs_for_hyper_parameter_tuning_job(  # type: ignore[attr-defined]
            self._get_param("HyperParameterTuningJobName"),
            status_equals=self._get_param("StatusEquals"),
            sort_by=self._get_param("SortBy"),
            sort_order=self._get_param("SortOrder"),
        )
        start = int(self._get_param("NextToken") or 0)
        end = start + int(self._get_param("MaxResults") or 100)
        page: dict[str, Any] = {"TrainingJobSummaries": summaries[start:end]}
        if end < len(summaries):
            page["NextToken"] = str(end)
        return ActionResult(page)


@cache
def _service_model() -> Any:
    """SageMaker's API model, parsed once: each new botocore session parses its 2.5 MB of JSON
    again, 0.3 s of CPU that every action's first request paid (110 for a walk of them all)."""
    import botocore.session

    return botocore.session.get_session().get_service_model("sagemaker")


@cache
def _input_shape(action: str) -> Any:
    try:
        return _service_model().operation_model(action).input_shape
    except OperationNotFoundError:
        return None


def _validation_problems(action: str, body: Any) -> str:
    """What SageMaker's request validation would say about ``body``; empty when it is valid."""
    shape = _input_shape(action)
    if shape is None:
        return ""  # not an operation of SageMaker's model: refused later, by name
    try:
        params = json.loads(body or "{}")
    except ValueError:
        return "The request body is not JSON"
    if not isinstance(params, dict):
        return "The request body is not a JSON object"
    report = ParamValidator().validate(params, shape)
    return report.generate_report() if report.has_errors() else ""
