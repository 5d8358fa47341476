"""moto's SageMaker backend with real training and hosting plugged in.

moto 5.2.5 records SageMaker resources but computes nothing: ``FakeTrainingJob`` is born
"Completed" with no model written, ``FakeEndpoint`` "InService" with nothing loaded,
UpdateEndpoint is not implemented and CreateEndpointConfig rejects current instance types.
Here each ``Fake*`` object is subclassed to start where SageMaker starts (InProgress,
Creating) and move on when the work is done, and :class:`SageMakerEmulatorBackend`
overrides the few backend methods that start that work:

=========================  ==================================================================
``create_training_job``    starts a :class:`~.training.TrainingRun` on a background thread
``create_endpoint_config`` accepts the instance types SageMaker offers (ml.g5, ml.c6i, ...)
``create_endpoint``        loads the config's model artifacts on a background thread
``stop_training_job``      (new) asks the training run to stop: Stopping, then Stopped
``update_endpoint``        (new) loads the new config beside the old one, then swaps
``delete_endpoint``        stops serving
``update_endpoint_weights_and_capacities``  re-weights the variants being served
``create_transform_job``   starts a :class:`~.transform.TransformRun` on a background thread
``create_hyper_parameter_tuning_job``  starts a :class:`~.tuning.TuningRun` of real training jobs
``list_training_jobs_for_hyper_parameter_tuning_job``  (new) the tuning job's training jobs
``stop_transform_job`` / ``stop_hyper_parameter_tuning_job``  (new) Stopping, then Stopped
``delete_hyper_parameter_tuning_job``  refuses a job still InProgress or Stopping
``create_processing_job``  recorded, then Failed: the emulator runs no processing containers
=========================  ==================================================================

Operations whose answer would claim work nobody did are refused before they reach here
(``operations.REFUSED``, answered by ``responses.py``).

Example (boto3 against ``scones local-aws``; the job trains for real)::

    sm = boto3.client("sagemaker", endpoint_url="http://127.0.0.1:5000")
    sm.create_training_job(TrainingJobName="bikes", AlgorithmSpecification={
        "TrainingImage": "811284229777.dkr.ecr.us-east-1.amazonaws.com/image-classification:1",
        "TrainingInputMode": "File"}, HyperParameters={"num_classes": "2", ...}, ...)
    sm.get_waiter("training_job_completed_or_stopped").wait(TrainingJobName="bikes")
    sm.describe_training_job(TrainingJobName="bikes")["FinalMetricDataList"]
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import re
import threading
import time
from typing import TYPE_CHECKING, Any

from moto.core.utils import utcnow
from moto.sagemaker.exceptions import ResourceNotFound
from moto.sagemaker.models import (
    FakeEndpoint,
    FakeEndpointConfig,
    FakeTrainingJob,
    FakeTransformJob,
    SageMakerModelBackend,
)

from scones.emulator.persistence.changes import background_change
from scones.emulator.sagemaker.exceptions import ResourceLimitExceeded, ValidationError
from scones.emulator.sagemaker.hosting import Deployment, load_deployment
from scones.emulator.sagemaker.training import ALGORITHM as ALGORITHM_NAME
from scones.emulator.sagemaker.training import METRIC_DEFINITIONS, TrainingRun
from scones.emulator.sagemaker.transform import EmulatedTransformJob, TransformRun
from scones.emulator.sagemaker.tuning import (
    MAX_TUNING_JOBS_IN_PROGRESS,
    EmulatedTuningJob,
    TuningRun,
    TuningSpec,
    training_job_summary,
)

if TYPE_CHECKING:
    from scones.emulator.sagemaker.learner import EpochReport

log = logging.getLogger(__name__)

#: Real-time hosting instance families (https://aws.amazon.com/sagemaker/pricing/), any size.
HOSTING_FAMILIES = (
    "t2",
    "t3",
    "m4",
    "m5",
    "m5d",
    "m6g",
    "m6gd",
    "m6i",
    "m6id",
    "m7i",
    "c4",
    "c5",
    "c5d",
    "c5n",
    "c6g",
    "c6gd",
    "c6gn",
    "c6i",
    "c6id",
    "c7g",
    "c7i",
    "r5",
    "r5d",
    "r6g",
    "r6gd",
    "r6i",
    "r6id",
    "r7i",
    "p2",
    "p3",
    "p3dn",
    "p4d",
    "p4de",
    "p5",
    "g4dn",
    "g5",
    "g6",
    "g6e",
    "inf1",
    "inf2",
    "trn1",
    "trn1n",
)
#: Creating and Updating last at least this long, so clients and tests see them, as on AWS
#: (where they last minutes); loading a model takes a fraction of it.
MIN_TRANSITION_SECONDS = 0.5
_INSTANCE_TYPE = re.compile(
    r"ml\.(?P<family>[a-z0-9]+)\.(?P<size>medium|large|[0-9]*xlarge)"
)  # fullmatch: "$" takes a trailing "\n"


class EmulatedTrainingJob(FakeTrainingJob):
    """A training job whose status follows a real :class:`~.training.TrainingRun`.

    Status fields change under ``_lock`` from the training thread while DescribeTrainingJob
    reads them from request threads.
    """

    def __init__(self, **kwargs: Any) -> None:
        # moto adds a fake MetricDefinition to the caller's dict; give it a copy.
        kwargs["algorithm_specification"] = copy.deepcopy(kwargs.get("algorithm_specification") or {})
        super().__init__(**kwargs)
        self._lock = threading.Lock()
        self._epochs: list[EpochReport] = []
        now = utcnow()
        self.algorithm_specification["MetricDefinitions"] = copy.deepcopy(METRIC_DEFINITIONS)
        self.training_job_status = "InProgress"
        self.secondary_status = "Starting"
        self.secondary_status_transitions = [
            {"Status": "Starting", "StartTime": now, "StatusMessage": "Preparing the instances for training"}
        ]
        self.final_metric_data_list = []
        self.training_start_time = None  # None fields are left out of the response, as by SageMaker
        self.training_end_time = None
        self.failure_reason = None
        self.creation_time = self.last_modified_time = now
        self._stop_requested = threading.Event()  # the training run checks it between steps

    def stop_requested(self) -> bool:
        return self._stop_requested.is_set()

    def request_stop(self) -> None:
        """StopTrainingJob: InProgress -> Stopping; the training run makes it Stopped."""
        with self._lock:
            if self.training_job_status != "InProgress":
                raise ValidationError(
                    message=f"The request was rejected because the training job is in status "
                    f"{self.training_job_status}."
                )
            self.training_job_status = "Stopping"
            self._stop_requested.set()
            self._advance("Stopping", "Stopping the training job")

    def advance(self, status: str, message: str) -> None:
        """Enter secondary status ``status`` (closing the previous transition)."""
        with self._lock:
            self._advance(status, message)

    def _advance(self, status: str, message: str) -> None:  # with _lock held
        now = utcnow()
        self.secondary_status_transitions[-1]["EndTime"] = now
        self.secondary_status_transitions.append({"Status": status, "StartTime": now, "StatusMessage": message})
        self.secondary_status = status
        if status == "Downloading" and self.training_start_time is None:
            self.training_start_time = now
        self.last_modified_time = now

    def record_epoch(self, report: EpochReport) -> None:
        with self._lock:
            self._epochs.append(report)

    def complete(self) -> None:
        with self._lock:
            final = self._epochs[-1] if self._epochs else None
            now = utcnow()
            if final is not None:
                self.final_metric_data_list = [
                    {"MetricName": "train:accuracy", "Value": final.train_accuracy, "Timestamp": now}
                ] + (
                    [{"MetricName": "validation:accuracy", "Value": final.validation_accuracy, "Timestamp": now}]
                    if final.validation_accuracy is not None
                    else []
                )
        self._finish("Completed", "Training job completed")

    def stopped(self) -> None:
        self._finish("Stopped", "The training job was stopped")

    def fail(self, reason: str) -> None:
        with self._lock:
            self.failure_reason = reason
        self._finish("Failed", "Training job failed")

    def _finish(self, status: str, message: str) -> None:
        with background_change(), self._lock:  # kept before a client can poll the end (persistence)
            if status == "Completed" and self._stop_requested.is_set():  # stopped while it uploaded the model
                status, message = "Stopped", "The training job was stopped"
            self._advance(status, message)
            now = self.last_modified_time
            self.secondary_status_transitions[-1]["EndTime"] = now
            self.training_start_time = self.training_start_time or now
            self.training_end_time = now
            self.training_job_status = status
            seconds = max(1, int((now - self.training_start_time).total_seconds()))
            self.training_time_in_seconds = self.billable_time_in_seconds = seconds

    @property
    def response_object(self) -> dict[str, Any]:  # type: ignore[override]
        # moto names a field after every attribute, "_lock" as "Lock": leave out our private ones.
        private = {self.camelCase(name) for name in self.__dict__ if name.startswith("_")}
        with self._lock:
            response = super().response_object
            return copy.deepcopy({k: v for k, v in response.items() if k not in private})


class EmulatedEndpointConfig(FakeEndpointConfig):
    def validate_instance_type(self, instance_type: str) -> None:
        match = _INSTANCE_TYPE.fullmatch(instance_type or "")
        if not match or match["family"] not in HOSTING_FAMILIES:
            raise ValidationError(
                message=f"Value '{instance_type}' at 'instanceType' failed to satisfy constraint: Member must be "
                f"ml.<family>.<size> with family one of {', '.join(HOSTING_FAMILIES)} (e.g. ml.m5.large)"
            )


class EmulatedEndpoint(FakeEndpoint):
    """An endpoint that serves :attr:`deployment` once it is loaded.

    ``deployment`` is replaced in one assignment when an update has loaded, so a request
    is served either by the old models or by the new ones, never by none.
    """

    def __init__(self, *, config: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.endpoint_status = "Creating"
        self.deployment: Deployment | None = None
        self.pending: dict[str, Any] | None = None
        self.config_summary = config

    def summary(self) -> dict[str, Any]:
        return {**super().summary(), "EndpointStatus": self.endpoint_status}

    @property
    def response_object(self) -> dict[str, Any]:  # type: ignore[override]
        deployment = self.deployment
        response: dict[str, Any] = {
            "EndpointName": self.endpoint_name,
            "EndpointArn": self.arn,
            "EndpointConfigName": self.endpoint_config_name,
            "EndpointStatus": self.endpoint_status,
            "CreationTime": self.creation_time,
            "LastModifiedTime": self.last_modified_time,
        }
        if deployment is not None:
            response["ProductionVariants"] = deployment.describe_variants()
            capture = deployment.describe_capture()
            if capture:
                response["DataCaptureConfig"] = capture
        if self.failure_reason:
            response["FailureReason"] = self.failure_reason
        if self.pending:
            response["PendingDeploymentSummary"] = self.pending
        return copy.deepcopy(response)


class SageMakerEmulatorBackend(SageMakerModelBackend):
    """moto's SageMaker backend whose training jobs train and whose endpoints serve."""

    def create_training_job(self, training_job_name: str, **kwargs: Any) -> FakeTrainingJob:  # type: ignore[override]
        if training_job_name in self.training_jobs:
            raise ValidationError(
                message=f"Training job names must be unique within an AWS account and region, "
                f"and a training job with this name already exists ({training_job_name})"
            )
        job = EmulatedTrainingJob(
            account_id=self.account_id, region_name=self.region_name, training_job_name=training_job_name, **kwargs
        )
        self.training_jobs[training_job_name] = job
        TrainingRun(job, self.account_id, self.region_name).start()
        return job

    def stop_training_job(self, training_job_name: str) -> None:
        job = self.training_jobs.get(training_job_name)
        if (
            job is None
        ):  # as DescribeTrainingJob answers (moto's wording); SageMaker's training APIs say ValidationException
            arn = EmulatedTrainingJob.arn_formatter(training_job_name, self.account_id, self.region_name)
            raise ValidationError(message=f"Could not find training job '{arn}'.")
        job.request_stop()

    def create_endpoint_config(self, endpoint_config_name: str, **kwargs: Any) -> FakeEndpointConfig:  # type: ignore[override]
        if endpoint_config_name in self.endpoint_configs:
            arn = EmulatedEndpointConfig.arn_formatter(endpoint_config_name, self.account_id, self.region_name)
            raise ValidationError(message=f'Cannot create already existing endpoint configuration "{arn}".')
        config = EmulatedEndpointConfig(
            account_id=self.account_id,
            region_name=self.region_name,
            endpoint_config_name=endpoint_config_name,
            **kwargs,
        )
        self.validate_production_variants(kwargs["production_variants"])
        self.endpoint_configs[endpoint_config_name] = config
        return config

    def create_endpoint(
        self, endpoint_name: str, endpoint_config_name: str, tags: list[dict[str, str]]
    ) -> FakeEndpoint:  # type: ignore[override]
        if endpoint_name in self.endpoints:
            arn = EmulatedEndpoint.arn_formatter(endpoint_name, self.account_id, self.region_name)
            raise ValidationError(message=f'Cannot create already existing endpoint "{arn}".')
        config = self.describe_endpoint_config(endpoint_config_name)  # ValidationError if missing
        endpoint = EmulatedEndpoint(
            account_id=self.account_id,
            region_name=self.region_name,
            endpoint_name=endpoint_name,
            endpoint_config_name=endpoint_config_name,
            production_variants=config["ProductionVariants"],
            data_capture_config=config.get("DataCaptureConfig") or {},
            tags=tags,
            config=config,
        )
        models = self._models_of(config)
        self.endpoints[endpoint_name] = endpoint
        self._deploy(endpoint, config, models, on_failure="Failed")
        return endpoint

    def update_endpoint(self, endpoint_name: str, endpoint_config_name: str) -> str:
        """Deploy ``endpoint_config_name`` to a live endpoint without dropping a request.

        Updating, then InService on the new config; if the new models cannot be loaded, the
        endpoint stays InService on the old config with FailureReason set, as SageMaker
        rolls back.
        """
        endpoint = self.endpoints.get(endpoint_name)
        if endpoint is None:
            arn = EmulatedEndpoint.arn_formatter(endpoint_name, self.account_id, self.region_name)
            raise ValidationError(message=f"Could not find endpoint '{arn}'.")
        if endpoint.endpoint_status != "InService":
            raise ValidationError(
                message=f"Cannot update in-progress endpoint '{endpoint.arn}' "
                f"(status {endpoint.endpoint_status}); wait until it is InService."
            )
        config = self.describe_endpoint_config(endpoint_config_name)
        models = self._models_of(config)  # ValidationError before anything changes
        endpoint.endpoint_status = "Updating"
        endpoint.failure_reason = None
        endpoint.pending = {"EndpointConfigName": endpoint_config_name, "StartTime": utcnow()}
        endpoint.last_modified_time = utcnow()
        self._deploy(endpoint, config, models, on_failure="InService")
        return endpoint.arn

    def delete_endpoint(self, endpoint_name: str) -> None:
        endpoint = self.endpoints.get(endpoint_name)
        super().delete_endpoint(endpoint_name)
        if endpoint is not None:
            endpoint.deployment = None

    def update_endpoint_weights_and_capacities(  # type: ignore[override]
        self, endpoint_name: str, desired_weights_and_capacities: list[dict[str, Any]]
    ) -> str:
        """moto's validation and record, then the served variants take the new weights at once."""
        arn = super().update_endpoint_weights_and_capacities(endpoint_name, desired_weights_and_capacities)
        endpoint = self.endpoints[endpoint_name]
        deployment = endpoint.deployment
        if deployment is not None:
            changes = {c["VariantName"]: c for c in desired_weights_and_capacities}
            variants = tuple(
                dataclasses.replace(
                    v,
                    weight=float(changes[v.name].get("DesiredWeight", v.weight)),
                    instance_count=int(changes[v.name].get("DesiredInstanceCount") or v.instance_count),
                )
                if v.name in changes
                else v
                for v in deployment.variants
            )
            endpoint.deployment = dataclasses.replace(deployment, variants=variants)  # one assignment, as an update
        return arn

    def create_transform_job(self, transform_job_name: str, model_name: str, **kwargs: Any) -> FakeTransformJob:  # type: ignore[override]
        if transform_job_name in self.transform_jobs:
            raise ValidationError(
                message=f"Transform job names must be unique within an AWS account and region, and "
                f"a transform job with this name already exists ({transform_job_name})"
            )
        model = self._models.get(model_name)
        if model is None:
            arn = f"arn:{self.partition}:sagemaker:{self.region_name}:{self.account_id}:model/{model_name}"
            raise ValidationError(message=f'Could not find model "{arn}".')
        job = EmulatedTransformJob(
            account_id=self.account_id,
            region_name=self.region_name,
            transform_job_name=transform_job_name,
            model_name=model_name,
            **kwargs,
        )
        self.transform_jobs[transform_job_name] = job
        TransformRun(job, model.response_object, self.account_id).start()
        return job

    def create_hyper_parameter_tuning_job(  # type: ignore[override]
        self,
        hyper_parameter_tuning_job_name: str,
        hyper_parameter_tuning_job_config: dict[str, Any],
        training_job_definition: dict[str, Any] | None,
        training_job_definitions: list[dict[str, Any]] | None,
        warm_start_config: dict[str, Any] | None,
        tags: list[dict[str, str]] | None,
        autotune: dict[str, Any] | None,
    ) -> str:
        spec = TuningSpec.parse(
            hyper_parameter_tuning_job_config,
            training_job_definition,
            training_job_definitions,
            warm_start_config,
            autotune,
        )
        in_progress = sum(
            getattr(j, "hyper_parameter_tuning_job_status", None) in ("InProgress", "Stopping")
            for j in list(self.hyper_parameter_tuning_jobs.values())
        )
        if in_progress >= MAX_TUNING_JOBS_IN_PROGRESS:
            raise ResourceLimitExceeded(
                f"The account-level service limit 'Number of parallel (concurrent) "
                f"hyperparameter tuning jobs' is {MAX_TUNING_JOBS_IN_PROGRESS} Jobs, with "
                f"current utilization of {in_progress} Jobs and a request delta of 1 Jobs. "
                "Please use AWS Service Quotas to request an increase for this quota."
            )
        job = EmulatedTuningJob(
            spec,
            hyper_parameter_tuning_job_name=hyper_parameter_tuning_job_name,
            hyper_parameter_tuning_job_config=hyper_parameter_tuning_job_config,
            region_name=self.region_name,
            account_id=self.account_id,
            training_job_definition=training_job_definition,
            training_job_definitions=training_job_definitions,
            warm_start_config=warm_start_config,
            tags=tags,
            autotune=autotune,
        )
        self.hyper_parameter_tuning_jobs[hyper_parameter_tuning_job_name] = job
        TuningRun(job, self).start()
        return job.arn

    def list_training_jobs_for_hyper_parameter_tuning_job(
        self,
        name: str,
        status_equals: str | None = None,
        sort_by: str | None = None,
        sort_order: str | None = None,
    ) -> list[dict[str, Any]]:
        job = self.hyper_parameter_tuning_jobs.get(name)
        if not isinstance(job, EmulatedTuningJob):
            raise ResourceNotFound(message=f"Could not find hyper parameter tuning job '{name}'.")
        summaries = [training_job_summary(self.training_jobs[n], job) for n in list(job.training_job_names)]
        if status_equals:
            summaries = [s for s in summaries if s["TrainingJobStatus"] == status_equals]
        key = {
            "Name": lambda s: s["TrainingJobName"],
            "Status": lambda s: s["TrainingJobStatus"],
            "FinalObjectiveMetricValue": lambda s: s.get("FinalHyperParameterTuningJobObjectiveMetric", {}).get(
                "Value", float("-inf")
            ),
        }.get(sort_by or "Name", lambda s: s["CreationTime"])
        return sorted(summaries, key=key, reverse=sort_order == "Descending")  # SageMaker's defaults: Name, Ascending

    def stop_transform_job(self, transform_job_name: str) -> None:
        job = self.transform_jobs.get(transform_job_name)
        if not isinstance(job, EmulatedTransformJob):
            arn = FakeTransformJob.arn_formatter(transform_job_name, self.account_id, self.region_name)
            raise ValidationError(message=f"Could not find transform job '{arn}'.")
        job.request_stop()

    def stop_hyper_parameter_tuning_job(self, name: str) -> None:
        job = self.hyper_parameter_tuning_jobs.get(name)
        if not isinstance(job, EmulatedTuningJob):
            raise ResourceNotFound(message=f"Could not find hyper parameter tuning job '{name}'.")
        job.request_stop()

    def delete_hyper_parameter_tuning_job(self, hyper_parameter_tuning_job_name: str) -> None:
        """Delete only a tuning job that has ended: moto's delete of a running one left its run launching
        training jobs that nothing could stop or see. AWS's reference does not say; refused as SageMaker refuses
        changes to a job in the wrong status (ValidationException naming it)."""
        job = self.hyper_parameter_tuning_jobs.get(hyper_parameter_tuning_job_name)
        status = getattr(job, "hyper_parameter_tuning_job_status", None)
        if isinstance(job, EmulatedTuningJob) and status in ("InProgress", "Stopping"):
            raise ValidationError(
                message=f"The request was rejected because the tuning job is in status {status}; "
                "stop it (StopHyperParameterTuningJob) and delete it once it is Stopped."
            )
        super().delete_hyper_parameter_tuning_job(hyper_parameter_tuning_job_name)

    def create_processing_job(self, processing_job_name: str, **kwargs: Any) -> Any:  # type: ignore[override]
        """Recorded as SageMaker records it, then Failed: a processing job runs an arbitrary container."""
        if processing_job_name in self.processing_jobs:
            arn = self.processing_jobs[processing_job_name].arn
            raise ValidationError(
                message=f"Job name must be unique within an AWS account and region, and a job "
                f"with this name already exists ({arn})"
            )
        job = super().create_processing_job(processing_job_name=processing_job_name, **kwargs)
        image = ((kwargs.get("app_specification") or {}).get("ImageUri")) or "(none)"
        job.processing_job_status = "Failed"
        job.failure_reason = (
            f"ClientError: the local AWS emulator runs no processing containers (ImageUri {image}); it computes "
            f"training, hosting, batch transform and tuning of SageMaker's built-in {ALGORITHM_NAME} algorithm only. "
            "Run this processing job on real SageMaker, or its code as an Airflow task."
        )
        job.exit_message = job.failure_reason
        return job

    def stop_processing_job(self, processing_job_name: str) -> None:
        job = self.processing_jobs.get(processing_job_name)
        if job is not None and job.processing_job_status not in ("InProgress", "Stopping"):
            raise ValidationError(
                message=f"The request was rejected because the processing job is in status {job.processing_job_status}."
            )
        super().stop_processing_job(processing_job_name)

    def _models_of(self, config: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """DescribeModel of each model ``config`` names (ValidationError if one was deleted)."""
        names = [variant["ModelName"] for variant in config.get("ProductionVariants", [])]
        return {name: self.describe_model(name).response_object for name in names}

    def _deploy(
        self, endpoint: EmulatedEndpoint, config: dict[str, Any], models: dict[str, dict[str, Any]], on_failure: str
    ) -> None:
        """Load ``config``'s models on a thread; swap them in, or set FailureReason and ``on_failure``."""

        def load() -> None:
            started = time.monotonic()
            failure = None
            try:
                deployment = load_deployment(self.account_id, self.region_name, endpoint.endpoint_name, config, models)
            except Exception as exc:  # any load failure becomes the endpoint's FailureReason
                failure = str(exc)
                log.warning("endpoint %s: %s", endpoint.endpoint_name, exc)
            time.sleep(max(0.0, MIN_TRANSITION_SECONDS - (time.monotonic() - started)))
            with background_change():  # kept before a client can poll the new status (persistence)
                if failure is not None:
                    endpoint.failure_reason = failure
                    endpoint.endpoint_status = on_failure
                else:
                    endpoint.deployment = deployment  # the swap: one reference assignment
                    endpoint.endpoint_config_name = config["EndpointConfigName"]
                    endpoint.config_summary = config
                    endpoint.endpoint_status = "InService"
                endpoint.pending = None
                endpoint.last_modified_time = utcnow()

        threading.Thread(target=load, name=f"endpoint-{endpoint.endpoint_name}", daemon=True).start()
