"""Hyperparameter tuning runs real training jobs: the strategy, the limits and the best job are real."""

from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError

from tests.emulator_sagemaker.conftest import TRAIN_PER_CLASS, training_request, unique, wait_for

OBJECTIVE = {"Type": "Maximize", "MetricName": "validation:accuracy"}


def tuning_request(name: str, dataset, *, strategy: str, ranges: dict, max_jobs: int | None, max_parallel: int) -> dict:
    training = training_request("unused", dataset)
    static = {
        "num_classes": "2",
        "num_training_samples": str(2 * TRAIN_PER_CLASS),
        "image_shape": "3,32,32",
        "epochs": "1",
    }
    limits = {"MaxParallelTrainingJobs": max_parallel, **({"MaxNumberOfTrainingJobs": max_jobs} if max_jobs else {})}
    return {
        "HyperParameterTuningJobName": name,
        "HyperParameterTuningJobConfig": {
            "Strategy": strategy,
            "HyperParameterTuningJobObjective": OBJECTIVE,
            "ResourceLimits": limits,
            "ParameterRanges": ranges,
        },
        "TrainingJobDefinition": {
            "StaticHyperParameters": {k: v for k, v in static.items() if k not in _tuned(ranges)},
            **{
                k: training[k]
                for k in (
                    "AlgorithmSpecification",
                    "RoleArn",
                    "InputDataConfig",
                    "OutputDataConfig",
                    "ResourceConfig",
                    "StoppingCondition",
                )
            },
        },
    }


def _tuned(ranges: dict) -> set[str]:
    return {r["Name"] for kind in ranges.values() for r in kind}


def finished_tuning(sm, name: str) -> dict:
    return wait_for(
        lambda: (
            (d := sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name))[
                "HyperParameterTuningJobStatus"
            ]
            not in ("InProgress", "Stopping")
            and d
        ),
        timeout=300,
    )


def test_grid_search_trains_every_combination_within_the_parallel_limit(sm, small_dataset) -> None:
    name = unique("tune-grid")
    ranges = {"CategoricalParameterRanges": [{"Name": "learning_rate", "Values": ["0.0001", "0.01", "0.5"]}]}
    sm.create_hyper_parameter_tuning_job(
        **tuning_request(name, small_dataset, strategy="Grid", ranges=ranges, max_jobs=None, max_parallel=2)
    )
    most_in_progress = 0
    while (d := sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name))[
        "HyperParameterTuningJobStatus"
    ] == "InProgress":
        most_in_progress = max(most_in_progress, d["TrainingJobStatusCounters"]["InProgress"])
        time.sleep(0.2)

    done = finished_tuning(sm, name)
    assert done["HyperParameterTuningJobStatus"] == "Completed", done.get("FailureReason")
    assert 1 <= most_in_progress <= 2  # MaxParallelTrainingJobs
    assert done["TrainingJobStatusCounters"]["Completed"] == 3 and done["ObjectiveStatusCounters"]["Succeeded"] == 3
    jobs = sm.list_training_jobs_for_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)[
        "TrainingJobSummaries"
    ]
    assert sorted(j["TunedHyperParameters"]["learning_rate"] for j in jobs) == ["0.0001", "0.01", "0.5"]
    scores = {j["TrainingJobName"]: j["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] for j in jobs}
    best = done["BestTrainingJob"]
    assert best["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] == max(scores.values())
    assert scores[best["TrainingJobName"]] == max(scores.values())
    # The best is a real training job: its own metrics and artifact say so.
    trained = sm.describe_training_job(TrainingJobName=best["TrainingJobName"])
    assert trained["TrainingJobStatus"] == "Completed" and trained["TuningJobArn"] == done["HyperParameterTuningJobArn"]
    assert trained["HyperParameters"]["learning_rate"] == best["TunedHyperParameters"]["learning_rate"]
    validation = {m["MetricName"]: m["Value"] for m in trained["FinalMetricDataList"]}["validation:accuracy"]
    assert validation == best["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]
    assert trained["TrainingJobName"].startswith(f"{name}-")


def test_bayesian_runs_as_random_within_max_jobs_and_says_so(sm, small_dataset) -> None:
    name = unique("tune-bayes")
    ranges = {
        "ContinuousParameterRanges": [
            {"Name": "learning_rate", "MinValue": "0.0001", "MaxValue": "0.1", "ScalingType": "Logarithmic"}
        ]
    }
    sm.create_hyper_parameter_tuning_job(
        **tuning_request(name, small_dataset, strategy="Bayesian", ranges=ranges, max_jobs=2, max_parallel=1)
    )

    done = finished_tuning(sm, name)

    assert done["HyperParameterTuningJobStatus"] == "Completed", done.get("FailureReason")
    jobs = sm.list_training_jobs_for_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)[
        "TrainingJobSummaries"
    ]
    assert len(jobs) == 2  # MaxNumberOfTrainingJobs
    assert all(0.0001 <= float(j["TunedHyperParameters"]["learning_rate"]) <= 0.1 for j in jobs)
    tags = {t["Key"]: t["Value"] for t in sm.list_tags(ResourceArn=done["HyperParameterTuningJobArn"])["Tags"]}
    assert "runs as Random" in tags["scones-emulator:strategy"]


def test_unsupported_requests_are_refused_and_other_algorithms_fail(sm, small_dataset) -> None:
    ranges = {"IntegerParameterRanges": [{"Name": "mini_batch_size", "MinValue": "8", "MaxValue": "64"}]}
    with pytest.raises(ClientError, match="Grid search takes CategoricalParameterRanges only"):
        sm.create_hyper_parameter_tuning_job(
            **tuning_request(
                unique("tune-bad"), small_dataset, strategy="Grid", ranges=ranges, max_jobs=2, max_parallel=1
            )
        )
    with pytest.raises(ClientError, match="Hyperband is not supported"):
        sm.create_hyper_parameter_tuning_job(
            **tuning_request(
                unique("tune-bad"), small_dataset, strategy="Hyperband", ranges=ranges, max_jobs=2, max_parallel=1
            )
        )
    name = unique("tune-knn")
    request = tuning_request(name, small_dataset, strategy="Random", ranges=ranges, max_jobs=2, max_parallel=1)
    request["TrainingJobDefinition"]["AlgorithmSpecification"]["TrainingImage"] = (
        "382416733822.dkr.ecr.us-east-1.amazonaws.com/knn:1"
    )
    sm.create_hyper_parameter_tuning_job(**request)

    done = finished_tuning(sm, name)

    assert done["HyperParameterTuningJobStatus"] == "Failed" and "BestTrainingJob" not in done
    assert "knn" in done["FailureReason"] and "image-classification" in done["FailureReason"]


def test_the_provider_tuning_operator_returns_the_best_job(airflow_aws_connection, small_dataset) -> None:
    from airflow.providers.amazon.aws.operators.sagemaker import SageMakerTuningOperator

    name = unique("tune-operator")
    ranges = {"CategoricalParameterRanges": [{"Name": "optimizer", "Values": ["sgd", "adam"]}]}
    config = tuning_request(name, small_dataset, strategy="Random", ranges=ranges, max_jobs=2, max_parallel=2)
    operator = SageMakerTuningOperator(task_id="tune_model", config=config, wait_for_completion=True, check_interval=1)

    result = operator.execute({})

    tuning = result["Tuning"]
    assert tuning["HyperParameterTuningJobStatus"] == "Completed"
    assert tuning["BestTrainingJob"]["TrainingJobName"].startswith(f"{name}-")
    assert tuning["BestTrainingJob"]["TunedHyperParameters"]["optimizer"] in ("sgd", "adam")


@pytest.mark.parametrize("parallel", [1, 2])
def test_a_tuning_job_can_be_stopped(sm, small_dataset, parallel: int) -> None:
    name = unique("tune-stop")
    ranges = {"CategoricalParameterRanges": [{"Name": "epochs", "Values": ["400", "500"]}]}
    sm.create_hyper_parameter_tuning_job(
        **tuning_request(name, small_dataset, strategy="Grid", ranges=ranges, max_jobs=None, max_parallel=parallel)
    )
    wait_for(
        lambda: (
            sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)["TrainingJobStatusCounters"][
                "InProgress"
            ]
            == parallel
        )
    )

    sm.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)

    done = finished_tuning(sm, name)
    assert done["HyperParameterTuningJobStatus"] == "Stopped" and "FailureReason" not in done
    jobs = sm.list_training_jobs_for_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)[
        "TrainingJobSummaries"
    ]
    # The running ones stopped; with one at a time, the second never launched.
    assert [j["TrainingJobStatus"] for j in jobs] == ["Stopped"] * parallel
    with pytest.raises(ClientError, match="in status Stopped"):
        sm.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
