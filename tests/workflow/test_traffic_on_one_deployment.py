"""Traffic generation through one workflow deployment in moto, shared by the module's tests: each
starts and reads only its own executions, and none changes the bucket or the deployment (those
that do, or need none, are in test_traffic.py)."""

from __future__ import annotations

import json

import pytest

from scones.cli import main
from scones.workflow.deploy import deploy_workflow
from scones.workflow.executions import wait_for_executions
from scones.workflow.traffic import run_batches, run_sequentially, run_stream

from .conftest import IMAGES, TEST_CONFIG, TEST_SETTINGS, in_process_aws, put_dataset, run_handlers_as_lambdas

BUCKET = TEST_SETTINGS.bucket
KEYS = list(IMAGES)  # 2 confident, 2 below the threshold


@pytest.fixture(scope="module")
def deployment():
    with pytest.MonkeyPatch.context() as monkeypatch, in_process_aws() as client:
        run_handlers_as_lambdas(monkeypatch, put_dataset(client))
        deployed = deploy_workflow(client, TEST_SETTINGS, TEST_CONFIG)
        yield client, {stem: m["arn"] for stem, m in deployed["state_machines"].items()}


@pytest.fixture
def aws(deployment):
    return deployment[0]


@pytest.fixture
def machines(deployment):
    return deployment[1]


def test_the_three_modes_classify_every_image(aws, machines):
    sfn = aws("stepfunctions")
    keys = KEYS * 2
    sequential = run_sequentially(sfn, machines["classify_image"], BUCKET, keys)
    stream = run_stream(sfn, machines["classify_image"], BUCKET, keys, rate=50, poll=0.05)
    burst = run_batches(sfn, machines["classify_batch"], BUCKET, keys, batch_size=3, poll=0.05)
    for report in (sequential, stream, burst):
        assert report.to_dict()["statuses"] == {"SUCCEEDED": 4, "FAILED": 4}, report.mode
        assert report.errors == {"ThresholdConfidenceNotMet": 4}
        assert report.images == 8 and report.images_per_second > 0
    assert (sequential.executions, stream.executions, burst.executions) == (8, 8, 3)


def test_scones_traffic_command(aws, machines, capsys):
    assert main(["traffic", "--count", "5", "--batch", "--batch-size", "2", "--bucket", BUCKET]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["mode"], report["executions"], report["images"]) == ("burst", 3, 5)
    assert sum(report["statuses"].values()) == 5


def test_a_missing_bucket_is_named(aws, machines, capsys):
    assert main(["traffic", "--count", "1", "--bucket", "no-such-bucket-here"]) == 1
    assert "bucket 'no-such-bucket-here' does not exist: pass --bucket" in capsys.readouterr().err


def test_low_confidence_alone_is_the_workflow_working(aws, machines, capsys):
    assert main(["traffic", "--count", "4", "--batch", "--bucket", BUCKET]) == 0
    assert json.loads(capsys.readouterr().out)["errors"] == {"ThresholdConfidenceNotMet": 2}


def test_no_wait_prints_what_to_follow_up_on(aws, machines, capsys):
    assert main(["traffic", "--count", "5", "--batch", "--batch-size", "2", "--no-wait", "--bucket", BUCKET]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["waited"] is False and "images_per_second" not in report
    assert len(report["execution_arns"]) == 3 and report["state_machine"] == machines["classify_batch"]
    # Left running, the executions would call this test's fake Lambdas during the next test.
    outcomes = wait_for_executions(aws("stepfunctions"), report["execution_arns"], timeout=60, poll=0.05)
    assert all(o.status == "SUCCEEDED" for o in outcomes.values())
