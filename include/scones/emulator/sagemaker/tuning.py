"""Hyperparameter tuning: real training jobs chosen by the strategy, the best on the objective metric.

As SageMaker does it (https://docs.aws.amazon.com/sagemaker/latest/dg/automatic-model-tuning-how-it-works.html),
for the built-in image-classification algorithm the emulator trains:

- ``Random``: each training job draws every range at random (``Logarithmic`` scaling draws
  log-uniformly, ``ReverseLogarithmic`` near the top); ``MaxNumberOfTrainingJobs`` jobs in all.
- ``Grid``: every combination of the categorical ranges (the only kind Grid takes, as on AWS),
  at most ``MaxNumberOfTrainingJobs`` of them when it is given.
- ``Bayesian`` runs as ``Random``: the emulator fits no surrogate model. The tuning job says so
  in its tag ``scones-emulator:strategy`` (ListTags) and in the emulator's log.
- StopHyperParameterTuningJob launches no more jobs and stops the running ones (Stopping, then
  Stopped); ``BestTrainingJob`` is the best of those that completed.
- ``Hyperband``, warm start, Autotune and several training job definitions are refused at
  CreateHyperParameterTuningJob with a ValidationException naming what is supported.

SageMaker's quotas on tuning (https://docs.aws.amazon.com/sagemaker/latest/dg/automatic-model-tuning-limits.html)
are enforced at CreateHyperParameterTuningJob with its ResourceLimitExceeded, at the values no
quota increase can pass: 100 parallel training jobs per tuning job, 750 training jobs per
tuning job (10,000 for Random), 100 tuning jobs in progress at once. Candidates are drawn as
jobs launch, never all at once.

At most ``MaxParallelTrainingJobs`` of its training jobs are InProgress at once, and at most
``LIVE_TRAININGS`` across the emulator: training uses one CPU slot anyway, so more threads would
only wait (on AWS, the account's training-instance quota holds back launches the same way). Each is an
ordinary training job (DescribeTrainingJob shows its ``TuningJobArn``), named as SageMaker
names them, ``<tuning job>-<NNN>-<8 hex>``. ``BestTrainingJob`` is the completed job with the
best final value of the objective metric; when every job fails, the tuning job fails with the
first job's reason.
"""

from __future__ import annotations

import copy
import itertools
import logging
import math
import random
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from moto.core.utils import utcnow
from moto.sagemaker.models import HyperParameterTuningJob

from scones.emulator.persistence.changes import background_change
from scones.emulator.sagemaker.exceptions import ResourceLimitExceeded, ValidationError
from scones.emulator.sagemaker.training import ALGORITHM, METRIC_DEFINITIONS, algorithm_of

if TYPE_CHECKING:
    from scones.emulator.sagemaker.models import SageMakerEmulatorBackend

log = logging.getLogger(__name__)

OBJECTIVE_METRICS = tuple(d["Name"] for d in METRIC_DEFINITIONS)
STRATEGY_TAG = "scones-emulator:strategy"
POLL_SECONDS = 0.5
FINISHED = ("Completed", "Failed", "Stopped")

# SageMaker's tuning quotas at their ceilings (automatic-model-tuning-limits.html, "Can be increased to").
MAX_PARALLEL_TRAINING_JOBS = 100
MAX_TRAINING_JOBS = {"Random": 10_000, "Bayesian": 750, "Grid": 750}
MAX_TUNING_JOBS_IN_PROGRESS = 100
#: Training jobs launched by tuning and not yet finished, across the emulator (one thread each).
LIVE_TRAININGS = threading.BoundedSemaphore(4)


def _quota(name: str, limit: int, requested: int, unit: str = "Jobs") -> ResourceLimitExceeded:
    """SageMaker's wording for a request beyond a service quota."""
    return ResourceLimitExceeded(
        f"The account-level service limit '{name}' is {limit} {unit}, with current "
        f"utilization of 0 {unit} and a request delta of {requested} {unit}. Please use "
        "AWS Service Quotas to request an increase for this quota."
    )


@dataclass(frozen=True)
class ParameterRange:
    name: str
    kind: str  # "Integer", "Continuous" or "Categorical"
    low: float = 0.0
    high: float = 0.0
    values: tuple[str, ...] = ()
    scaling: str = "Auto"

    def draw(self, rng: random.Random) -> str:
        if self.kind == "Categorical":
            return rng.choice(self.values)
        if self.scaling == "Logarithmic":
            value = math.exp(rng.uniform(math.log(self.low), math.log(self.high)))
        elif self.scaling == "ReverseLogarithmic":
            value = 1 - math.exp(rng.uniform(math.log(1 - self.high), math.log(1 - self.low)))
        else:
            value = rng.uniform(self.low, self.high)
        if self.kind == "Integer":
            return str(min(int(self.high), max(int(self.low), round(value))))
        return repr(value)


@dataclass(frozen=True)
class TuningSpec:
    """A CreateHyperParameterTuningJob request, checked; ValidationError names what is not supported."""

    strategy: str  # what runs: Random or Grid
    requested_strategy: str
    objective_type: str
    objective_metric: str
    max_jobs: int
    max_parallel: int
    ranges: tuple[ParameterRange, ...]
    definition: dict[str, Any]

    @classmethod
    def parse(
        cls,
        config: dict[str, Any],
        definition: dict[str, Any] | None,
        definitions: list[Any] | None,
        warm_start: Any,
        autotune: Any,
    ) -> TuningSpec:
        if definitions or not definition:
            raise ValidationError(
                message="The local emulator tunes one TrainingJobDefinition; TrainingJobDefinitions "
                "(several algorithms) is not supported"
            )
        if warm_start or autotune:
            raise ValidationError(message="WarmStartConfig and Autotune are not supported by the local emulator")
        requested = config.get("Strategy", "Bayesian")
        if requested not in ("Random", "Grid", "Bayesian"):
            raise ValidationError(
                message=f"Strategy {requested} is not supported by the local emulator; use Random, "
                "Grid or Bayesian (which it runs as Random)"
            )
        objective = config.get("HyperParameterTuningJobObjective") or {}
        if objective.get("MetricName") not in OBJECTIVE_METRICS or objective.get("Type") not in (
            "Maximize",
            "Minimize",
        ):
            raise ValidationError(
                message=f"HyperParameterTuningJobObjective {objective!r}: the {ALGORITHM} algorithm "
                f"emits {', '.join(OBJECTIVE_METRICS)}; Type is Maximize or Minimize"
            )
        ranges = _ranges(config.get("ParameterRanges") or {})
        static = definition.get("StaticHyperParameters") or {}
        clash = sorted({r.name for r in ranges} & set(static))
        if clash:
            raise ValidationError(message=f"Hyperparameters {clash} are both static and tuned")
        limits = config.get("ResourceLimits") or {}
        max_parallel = int(limits.get("MaxParallelTrainingJobs") or 0)
        if max_parallel > MAX_PARALLEL_TRAINING_JOBS:
            raise _quota(
                "Number of parallel training jobs per hyperparameter tuning job",
                MAX_PARALLEL_TRAINING_JOBS,
                max_parallel,
            )
        if (
            limits.get("MaxNumberOfTrainingJobs")
            and int(limits["MaxNumberOfTrainingJobs"]) > MAX_TRAINING_JOBS[requested]
        ):
            raise _quota(
                f"[{requested} search] Number of training jobs per hyperparameter tuning job",
                MAX_TRAINING_JOBS[requested],
                int(limits["MaxNumberOfTrainingJobs"]),
            )
        if requested == "Grid":
            if any(r.kind != "Categorical" for r in ranges):
                raise ValidationError(message="Grid search takes CategoricalParameterRanges only")
            grid_size = math.prod(len(r.values) for r in ranges)
            if not limits.get("MaxNumberOfTrainingJobs") and grid_size > MAX_TRAINING_JOBS["Grid"]:
                raise _quota(
                    "[Grid search] Number of training jobs per hyperparameter tuning job (inferred from the "
                    "search space)",
                    MAX_TRAINING_JOBS["Grid"],
                    grid_size,
                )
            max_jobs = min(grid_size, int(limits.get("MaxNumberOfTrainingJobs") or grid_size))
        else:
            if not limits.get("MaxNumberOfTrainingJobs"):
                raise ValidationError(message=f"ResourceLimits.MaxNumberOfTrainingJobs is required for {requested}")
            max_jobs = int(limits["MaxNumberOfTrainingJobs"])
        if max_jobs < 1 or max_parallel < 1:
            raise ValidationError(message="MaxNumberOfTrainingJobs and MaxParallelTrainingJobs must be at least 1")
        return cls(
            strategy="Grid" if requested == "Grid" else "Random",
            requested_strategy=requested,
            objective_type=objective["Type"],
            objective_metric=objective["MetricName"],
            max_jobs=max_jobs,
            max_parallel=max_parallel,
            ranges=ranges,
            definition=definition,
        )

    def candidates(self, seed: str) -> Iterator[dict[str, str]]:
        """The tuned hyperparameters of each training job, in launch order, drawn as they are asked for."""
        if self.strategy == "Grid":
            names = [r.name for r in self.ranges]
            grid = itertools.product(*(r.values for r in self.ranges))
            return (dict(zip(names, values, strict=True)) for values in itertools.islice(grid, self.max_jobs))
        rng = random.Random(seed)
        return ({r.name: r.draw(rng) for r in self.ranges} for _ in range(self.max_jobs))


def _ranges(spec: dict[str, Any]) -> tuple[ParameterRange, ...]:
    ranges = []
    for kind in ("Integer", "Continuous"):
        for item in spec.get(f"{kind}ParameterRanges") or []:
            scaling = item.get("ScalingType", "Auto")
            try:
                low, high = float(item["MinValue"]), float(item["MaxValue"])
            except (KeyError, ValueError):
                raise ValidationError(message=f"{kind} range {item!r} needs numeric MinValue and MaxValue") from None
            if low > high or (scaling == "Logarithmic" and low <= 0) or (scaling == "ReverseLogarithmic" and high >= 1):
                raise ValidationError(
                    message=f"{kind} range {item['Name']}: [{low}, {high}] does not fit ScalingType {scaling}"
                )
            ranges.append(ParameterRange(item["Name"], kind, low, high, scaling=scaling))
    for item in spec.get("CategoricalParameterRanges") or []:
        if not item.get("Values"):
            raise ValidationError(message=f"categorical range {item.get('Name')} has no Values")
        ranges.append(ParameterRange(item["Name"], "Categorical", values=tuple(map(str, item["Values"]))))
    if not ranges:
        raise ValidationError(message="ParameterRanges names no hyperparameter to tune")
    return tuple(ranges)


class EmulatedTuningJob(HyperParameterTuningJob):
    """A tuning job whose counters and best job follow its real training jobs (:class:`TuningRun`)."""

    def __init__(self, spec: TuningSpec, **kwargs: Any) -> None:
        super().__init__(**kwargs)  # moto's checks: a unique name
        self._lock = threading.Lock()
        self.spec = spec
        self.hyper_parameter_tuning_job_status = "InProgress"
        self.hyper_parameter_tuning_end_time = None
        self.training_job_status_counters = dict.fromkeys(
            ("Completed", "InProgress", "RetryableError", "NonRetryableError", "Stopped"), 0
        )
        self.objective_status_counters = dict.fromkeys(("Succeeded", "Pending", "Failed"), 0)
        self.best_training_job = None
        self.OverallBestTrainingJob = None
        self.failure_reason = None
        self.tuning_job_completion_details = None
        self.consumed_resources = None
        self.training_job_names: list[str] = []
        self._stop_requested = threading.Event()
        if spec.requested_strategy != spec.strategy:
            self.tags = [
                *(self.tags or []),
                {
                    "Key": STRATEGY_TAG,
                    "Value": f"{spec.requested_strategy} runs as {spec.strategy} search in the local emulator",
                },
            ]

    def request_stop(self) -> None:
        """StopHyperParameterTuningJob: InProgress -> Stopping; the run stops its training jobs, then Stopped."""
        with self._lock:
            if self.hyper_parameter_tuning_job_status != "InProgress":
                raise ValidationError(
                    message=f"The request was rejected because the tuning job is in status "
                    f"{self.hyper_parameter_tuning_job_status}."
                )
            self.hyper_parameter_tuning_job_status = "Stopping"
            self._stop_requested.set()

    def stop_requested(self) -> bool:
        return self._stop_requested.is_set()

    def update(self, summaries: list[dict[str, Any]], best: dict[str, Any] | None) -> None:
        with self._lock:
            counters = dict.fromkeys(self.training_job_status_counters, 0)
            objectives = dict.fromkeys(self.objective_status_counters, 0)
            for summary in summaries:
                status = summary["TrainingJobStatus"]
                counters[{"Failed": "NonRetryableError", "Stopping": "InProgress"}.get(status, status)] += 1
                objectives[summary["ObjectiveStatus"]] += 1
            self.training_job_status_counters, self.objective_status_counters = counters, objectives
            self.best_training_job = self.OverallBestTrainingJob = best
            self.last_modified_time = utcnow()

    def finish(self, status: str, reason: str | None = None) -> None:
        with background_change(), self._lock:  # kept before a client can poll the end (persistence)
            if self._stop_requested.is_set():
                status, reason = "Stopped", None
            self.hyper_parameter_tuning_job_status = status
            self.failure_reason = reason
            self.hyper_parameter_tuning_end_time = self.last_modified_time = utcnow()
            self.consumed_resources = {"RuntimeInSeconds": int((utcnow() - self.creation_time).total_seconds())}

    def describe(self) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy({k: v for k, v in super().describe().items() if v not in (None, "")})

    def summary(self) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy({k: v for k, v in super().summary().items() if v not in (None, "")})


class TuningRun:
    """Launches the tuning job's training jobs, at most MaxParallelTrainingJobs at a time, and tracks the best."""

    def __init__(self, job: EmulatedTuningJob, backend: SageMakerEmulatorBackend) -> None:
        self.job = job
        self.backend = backend
        self.live: set[str] = set()  # launched training jobs holding a LIVE_TRAININGS slot

    def start(self) -> threading.Thread:
        thread = threading.Thread(
            target=self.run, name=f"tuning-{self.job.hyper_parameter_tuning_job_name}", daemon=True
        )
        thread.start()
        return thread

    def run(self) -> None:
        job, spec = self.job, self.job.spec
        try:
            image = (spec.definition.get("AlgorithmSpecification") or {}).get("TrainingImage", "")
            if algorithm_of(image) != ALGORITHM:
                job.finish(
                    "Failed",
                    f"ClientError: the local emulator tunes only SageMaker's built-in {ALGORITHM} "
                    f"algorithm (TrainingImage .../{ALGORITHM}:1); got {image!r}",
                )
                return
            if spec.requested_strategy != spec.strategy:
                log.info(
                    "tuning job %s: %s runs as %s search",
                    job.hyper_parameter_tuning_job_name,
                    spec.requested_strategy,
                    spec.strategy,
                )
            candidates = enumerate(spec.candidates(job.arn), 1)
            pending = next(candidates, None)
            stopping = False
            while True:
                if job.stop_requested() and not stopping:
                    stopping, pending = True, None  # launch no more, and stop the ones running
                    self.stop_running()
                summaries = self.summaries()
                self.release_finished(summaries)
                running = sum(s["TrainingJobStatus"] == "InProgress" for s in summaries)
                while pending is not None and running < spec.max_parallel and LIVE_TRAININGS.acquire(blocking=False):
                    try:
                        self.live.add(self.launch(*pending))
                    except BaseException:
                        LIVE_TRAININGS.release()
                        raise
                    running += 1
                    pending = next(candidates, None)
                summaries = self.summaries()
                job.update(summaries, self.best(summaries))
                if pending is None and all(s["TrainingJobStatus"] in FINISHED for s in summaries):
                    break
                time.sleep(POLL_SECONDS)
            if job.best_training_job is None and not job.stop_requested():
                reasons = [s.get("FailureReason") for s in summaries if s.get("FailureReason")]
                job.finish("Failed", "All training jobs failed" + (f"; the first: {reasons[0]}" if reasons else ""))
            else:
                job.finish("Completed")
        except Exception as exc:  # a crash still ends the tuning job, visibly
            log.exception("tuning job %s crashed", job.hyper_parameter_tuning_job_name)
            job.finish("Failed", f"InternalServerError: {type(exc).__name__}: {exc}")
        finally:
            for _ in range(len(self.live)):  # a crashed run gives its slots back too
                LIVE_TRAININGS.release()
            self.live.clear()

    def release_finished(self, summaries: list[dict[str, Any]]) -> None:
        for summary in summaries:
            if summary["TrainingJobName"] in self.live and summary["TrainingJobStatus"] in FINISHED:
                self.live.discard(summary["TrainingJobName"])
                LIVE_TRAININGS.release()

    def stop_running(self) -> None:
        for name in list(self.job.training_job_names):
            try:
                self.backend.training_jobs[name].request_stop()
            except ValidationError:  # it ended meanwhile
                pass

    def launch(self, number: int, tuned: dict[str, str]) -> str:
        job, definition = self.job, self.job.spec.definition
        name = f"{job.hyper_parameter_tuning_job_name}-{number:03d}-{uuid.uuid4().hex[:8]}"
        training = self.backend.create_training_job(
            training_job_name=name,
            hyper_parameters={**(definition.get("StaticHyperParameters") or {}), **tuned},
            algorithm_specification=copy.deepcopy(definition.get("AlgorithmSpecification") or {}),
            role_arn=definition.get("RoleArn"),
            input_data_config=copy.deepcopy(definition.get("InputDataConfig") or []),
            output_data_config=copy.deepcopy(definition.get("OutputDataConfig") or {}),
            resource_config=copy.deepcopy(definition.get("ResourceConfig") or {}),
            vpc_config=definition.get("VpcConfig"),
            stopping_condition=definition.get("StoppingCondition"),
            tags=[],
            enable_network_isolation=bool(definition.get("EnableNetworkIsolation")),
            enable_inter_container_traffic_encryption=bool(definition.get("EnableInterContainerTrafficEncryption")),
            enable_managed_spot_training=bool(definition.get("EnableManagedSpotTraining")),
            checkpoint_config=definition.get("CheckpointConfig"),
            debug_hook_config=None,
            debug_rule_configurations=None,
            tensor_board_output_config=None,
            experiment_config=None,
        )
        training.tuning_job_arn = job.arn  # DescribeTrainingJob's TuningJobArn
        training._tuned_hyper_parameters = tuned  # private: left out of DescribeTrainingJob
        job.training_job_names.append(name)
        return name

    def summaries(self) -> list[dict[str, Any]]:
        """HyperParameterTrainingJobSummary of each training job launched so far."""
        return [
            training_job_summary(self.backend.training_jobs[name], self.job)
            for name in list(self.job.training_job_names)
        ]

    def best(self, summaries: list[dict[str, Any]]) -> dict[str, Any] | None:
        scored = [s for s in summaries if "FinalHyperParameterTuningJobObjectiveMetric" in s]
        if not scored:
            return None
        sign = 1 if self.job.spec.objective_type == "Maximize" else -1
        # max() keeps the first of equal values: the earliest job wins a tie.
        return max(scored, key=lambda s: sign * s["FinalHyperParameterTuningJobObjectiveMetric"]["Value"])


def training_job_summary(training: Any, tuning: EmulatedTuningJob) -> dict[str, Any]:
    """One training job of a tuning job, as ListTrainingJobsForHyperParameterTuningJob and BestTrainingJob show it."""
    described = training.response_object
    status = described["TrainingJobStatus"]
    metric = next(
        (m for m in described.get("FinalMetricDataList") or [] if m["MetricName"] == tuning.spec.objective_metric), None
    )
    summary: dict[str, Any] = {
        "TrainingJobName": described["TrainingJobName"],
        "TrainingJobArn": described["TrainingJobArn"],
        "TuningJobName": tuning.hyper_parameter_tuning_job_name,
        "CreationTime": described["CreationTime"],
        "TrainingJobStatus": status,
        "TunedHyperParameters": dict(getattr(training, "_tuned_hyper_parameters", {})),
        "ObjectiveStatus": "Pending"
        if status not in FINISHED
        else ("Succeeded" if metric and status == "Completed" else "Failed"),
    }
    for key in ("TrainingStartTime", "TrainingEndTime", "FailureReason"):
        if described.get(key):
            summary[key] = described[key]
    if metric is not None and status == "Completed":
        summary["FinalHyperParameterTuningJobObjectiveMetric"] = {
            "Type": tuning.spec.objective_type,
            "MetricName": metric["MetricName"],
            "Value": metric["Value"],
        }
    return summary
