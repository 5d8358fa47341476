"""Tuning within SageMaker's quotas: refused beyond them at Create, and a bounded number of live trainings."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from scones.emulator.sagemaker import tuning
from scones.emulator.sagemaker.exceptions import ResourceLimitExceeded
from scones.emulator.sagemaker.tuning import EmulatedTuningJob, TuningRun, TuningSpec

IMAGE = "811284229777.dkr.ecr.us-east-1.amazonaws.com/image-classification:1"
DEFINITION = {
    "AlgorithmSpecification": {"TrainingImage": IMAGE, "TrainingInputMode": "File"},
    "StaticHyperParameters": {},
}
RATE = {"ContinuousParameterRanges": [{"Name": "learning_rate", "MinValue": "0.001", "MaxValue": "0.1"}]}


def config(strategy: str, ranges: dict, **limits: int) -> dict[str, Any]:
    return {
        "Strategy": strategy,
        "ResourceLimits": limits,
        "ParameterRanges": ranges,
        "HyperParameterTuningJobObjective": {"Type": "Maximize", "MetricName": "validation:accuracy"},
    }


def parse(cfg: dict[str, Any]) -> TuningSpec:
    return TuningSpec.parse(cfg, DEFINITION, None, None, None)


@pytest.mark.parametrize(
    ("cfg", "quota"),
    [
        (config("Random", RATE, MaxNumberOfTrainingJobs=10**8, MaxParallelTrainingJobs=1), "is 10000 Jobs"),
        (config("Bayesian", RATE, MaxNumberOfTrainingJobs=751, MaxParallelTrainingJobs=1), "is 750 Jobs"),
        (config("Random", RATE, MaxNumberOfTrainingJobs=10, MaxParallelTrainingJobs=10**5), "is 100 Jobs"),
        (
            config(
                "Grid",
                {
                    "CategoricalParameterRanges": [
                        {"Name": f"p{i}", "Values": [str(v) for v in range(30)]} for i in range(3)
                    ]
                },
                MaxParallelTrainingJobs=1,
            ),
            "is 750 Jobs",
        ),
    ],
    ids=["random-jobs", "bayesian-jobs", "parallel", "grid-inferred"],
)
def test_limits_beyond_sagemakers_quotas_are_refused_at_create(cfg: dict, quota: str) -> None:
    with pytest.raises(ResourceLimitExceeded, match=quota) as refused:
        parse(cfg)
    assert refused.value.code == "ResourceLimitExceeded"


def test_limits_at_the_quotas_are_accepted_and_candidates_are_drawn_lazily() -> None:
    spec = parse(config("Random", RATE, MaxNumberOfTrainingJobs=10_000, MaxParallelTrainingJobs=100))
    candidates = spec.candidates("seed")
    assert isinstance(candidates, Iterator)  # not 10,000 dicts built up front
    assert 0.001 <= float(next(candidates)["learning_rate"]) <= 0.1


class FakeTraining:
    """A training job that stays InProgress until the test finishes it."""

    def __init__(self, name: str) -> None:
        self.status = "InProgress"
        self.name = name

    @property
    def response_object(self) -> dict[str, Any]:
        return {
            "TrainingJobName": self.name,
            "TrainingJobArn": f"arn:{self.name}",
            "CreationTime": 0,
            "TrainingJobStatus": self.status,
        }

    def request_stop(self) -> None:
        self.status = "Stopped"


class FakeBackend:
    def __init__(self) -> None:
        self.training_jobs: dict[str, FakeTraining] = {}

    def create_training_job(self, training_job_name: str, **_: Any) -> FakeTraining:
        self.training_jobs[training_job_name] = FakeTraining(training_job_name)
        return self.training_jobs[training_job_name]


def test_a_wide_tuning_job_keeps_a_bounded_number_of_trainings_alive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tuning, "POLL_SECONDS", 0.01)
    cfg = config("Random", RATE, MaxNumberOfTrainingJobs=200, MaxParallelTrainingJobs=100)
    job = EmulatedTuningJob(
        parse(cfg),
        hyper_parameter_tuning_job_name="wide",
        hyper_parameter_tuning_job_config=cfg,
        region_name="us-east-1",
        account_id="123456789012",
        training_job_definition=DEFINITION,
        training_job_definitions=None,
        warm_start_config=None,
        tags=None,
        autotune=None,
    )
    backend = FakeBackend()
    runner = threading.Thread(target=TuningRun(job, backend).run, daemon=True)  # type: ignore[arg-type]
    runner.start()
    time.sleep(0.5)
    assert len(backend.training_jobs) == 4  # LIVE_TRAININGS, not MaxParallelTrainingJobs' 100 threads

    for training in list(backend.training_jobs.values()):
        training.status = "Completed"
    deadline = time.monotonic() + 5
    while len(backend.training_jobs) < 8 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(backend.training_jobs) == 8  # finished ones gave their slots back

    job.request_stop()
    runner.join(timeout=5)
    assert not runner.is_alive() and job.hyper_parameter_tuning_job_status == "Stopped"
    taken = [tuning.LIVE_TRAININGS.acquire(blocking=False) for _ in range(4)]
    for _ in range(sum(taken)):
        tuning.LIVE_TRAININGS.release()
    assert all(taken)  # every slot given back


def test_a_running_tuning_job_cannot_be_deleted_until_it_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    from scones.emulator.sagemaker import models
    from scones.emulator.sagemaker.exceptions import ValidationError

    monkeypatch.setattr(models.TuningRun, "start", lambda self: None)  # the record only: no training
    backend = models.SageMakerEmulatorBackend("us-east-1", "123456789012")
    cfg = config("Random", RATE, MaxNumberOfTrainingJobs=2, MaxParallelTrainingJobs=1)
    backend.create_hyper_parameter_tuning_job("running", cfg, DEFINITION, None, None, None, None)

    with pytest.raises(ValidationError, match="in status InProgress"):
        backend.delete_hyper_parameter_tuning_job("running")
    backend.stop_hyper_parameter_tuning_job("running")
    with pytest.raises(ValidationError, match="in status Stopping"):
        backend.delete_hyper_parameter_tuning_job("running")

    backend.hyper_parameter_tuning_jobs["running"].finish("Stopped")
    backend.delete_hyper_parameter_tuning_job("running")
    assert "running" not in backend.hyper_parameter_tuning_jobs
