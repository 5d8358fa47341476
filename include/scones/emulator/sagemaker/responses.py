"""SageMaker API responses: moto's, plus UpdateEndpoint, StopTrainingJob and
ListTrainingJobsForHyperParameterTuningJob (moto 5.2.5 answers NotImplemented), and the
operations of ``operations.REFUSED`` answered with a 400 before moto records anything."""

from __future__ import annotations

from typing import Any

from moto.core.common_types import TYPE_RESPONSE
from moto.core.responses import ActionResult
from moto.sagemaker.responses import SageMakerResponse

from scones.emulator.sagemaker import operations
from scones.emulator.unsupported import UnsupportedOperation


class SageMakerEmulatorResponse(SageMakerResponse):
    def call_action(self) -> TYPE_RESPONSE:
        action = self._get_action()
        if action in operations.REFUSED:
            status, headers, body = self.serialized(ActionResult(UnsupportedOperation(operations.refusal(action))))
            return status, headers, body
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
