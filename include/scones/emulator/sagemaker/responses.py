"""SageMaker API responses: moto's, plus UpdateEndpoint, StopTrainingJob, StopTransformJob,
StopHyperParameterTuningJob and ListTrainingJobsForHyperParameterTuningJob (moto 5.2.5 answers
NotImplemented). The operations
of ``operations.REFUSED`` never reach here (``install()`` registers them with
``scones.emulator.unsupported.refuse``)."""

from __future__ import annotations

from typing import Any

from moto.core.responses import ActionResult
from moto.sagemaker.responses import SageMakerResponse


class SageMakerEmulatorResponse(SageMakerResponse):
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
