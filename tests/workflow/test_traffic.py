"""Traffic generation through the workflow in moto, and the `scones traffic` command."""

from __future__ import annotations

import json

import pytest

from scones.cli import main
from scones.workflow.deploy import deploy_workflow
from scones.workflow.errors import WorkflowError
from scones.workflow.traffic import choose_images, list_images, run_batches, run_sequentially, run_stream

from .conftest import DATASET, IMAGES, TEST_CONFIG, TEST_SETTINGS, run_handlers_as_lambdas

BUCKET = TEST_SETTINGS.bucket
KEYS = list(IMAGES)  # 2 confident, 2 below the threshold


@pytest.fixture
def machines(moto_aws, dataset, monkeypatch):
    run_handlers_as_lambdas(monkeypatch, dataset)
    deployed = deploy_workflow(moto_aws, TEST_SETTINGS, TEST_CONFIG)
    return {stem: m["arn"] for stem, m in deployed["state_machines"].items()}


def test_choose_images_repeats_a_seeded_shuffle():
    chosen = choose_images(["a", "b", "c"], 7, seed=1)
    assert len(chosen) == 7 and set(chosen) == {"a", "b", "c"}
    assert chosen[:3] == chosen[3:6] and chosen == choose_images(["a", "b", "c"], 7, seed=1)


def test_list_images_says_what_to_do_when_there_are_none(moto_aws, dataset):
    assert list_images(moto_aws("s3"), BUCKET, f"{DATASET}/validation/") == sorted(KEYS)
    with pytest.raises(WorkflowError, match="run the ETL first"):
        list_images(moto_aws("s3"), BUCKET, "elsewhere/")


def test_the_three_modes_classify_every_image(moto_aws, machines):
    sfn = moto_aws("stepfunctions")
    keys = KEYS * 2
    sequential = run_sequentially(sfn, machines["classify_image"], BUCKET, keys)
    stream = run_stream(sfn, machines["classify_image"], BUCKET, keys, rate=50, poll=0.05)
    burst = run_batches(sfn, machines["classify_batch"], BUCKET, keys, batch_size=3, poll=0.05)
    for report in (sequential, stream, burst):
        assert report.to_dict()["statuses"] == {"SUCCEEDED": 4, "FAILED": 4}, report.mode
        assert report.errors == {"ThresholdConfidenceNotMet": 4}
        assert report.images == 8 and report.images_per_second > 0
    assert (sequential.executions, stream.executions, burst.executions) == (8, 8, 3)


def test_scones_traffic_command(moto_aws, machines, capsys):
    assert main(["traffic", "--count", "5", "--batch", "--batch-size", "2", "--bucket", BUCKET]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["mode"], report["executions"], report["images"]) == ("burst", 3, 5)
    assert sum(report["statuses"].values()) == 5


def test_scones_traffic_before_deployment_says_so(moto_aws, capsys):
    assert main(["traffic", "--count", "1", "--bucket", BUCKET]) == 1
    assert "deploy the workflow first (trigger scones_deploy_workflow)" in capsys.readouterr().err
