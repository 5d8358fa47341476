"""Traffic generation through the workflow in moto, and the `scones traffic` command: the tests
that need a fresh moto (no deployment, or a bucket they change). Those that can share one
deployment are in test_traffic_on_one_deployment.py."""

from __future__ import annotations

import json

import pytest

from scones.cli import main
from scones.workflow.deploy import deploy_workflow
from scones.workflow.errors import WorkflowError
from scones.workflow.traffic import choose_images, list_images

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


def test_scones_traffic_before_deployment_says_so(moto_aws, capsys):
    assert main(["traffic", "--count", "1", "--bucket", BUCKET]) == 1
    assert "deploy the workflow first (trigger scones_deploy_workflow)" in capsys.readouterr().err


def test_scones_traffic_names_a_bad_workflow_value_before_any_aws_call(moto_aws, capsys, monkeypatch):
    monkeypatch.setenv("SCONES_WORKFLOW_WAIT_TIMEOUT", "0")
    assert main(["traffic", "--count", "1", "--bucket", BUCKET]) == 1
    err = capsys.readouterr().err
    assert (
        "wait_timeout='0' from environment SCONES_WORKFLOW_WAIT_TIMEOUT" in err
        and "deploy the workflow first" not in err
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--batch", "--rate", "5"], "choose one"),
        (["--batch-size", "5"], "--batch-size applies to --batch only"),
        (["--no-wait"], "--no-wait needs --rate or --batch"),
        (["--batch", "--batch-size", "101"], "at most 100"),
        (["--rate", "nan"], "must be a positive number"),
        (["--rate", "abc"], "invalid positive float value"),
    ],
    ids=["rate-and-batch", "batch-size-alone", "no-wait-alone", "batch-too-big", "nan-rate", "not-a-number"],
)
def test_options_that_would_be_ignored_or_are_wrong_are_refused(argv, message, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["traffic", "--count", "3", *argv])
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_an_unreachable_endpoint_is_one_line_not_a_traceback(monkeypatch, capsys):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # the discard port: nothing listens
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(key, value)
    assert main(["traffic", "--count", "1", "--bucket", BUCKET]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is the emulator (scones local-aws) running at http://127.0.0.1:9?" in err


def test_failures_other_than_low_confidence_fail_the_command(moto_aws, machines, capsys):
    prefix = KEYS[0].rsplit("/", 1)[0]
    moto_aws("s3").put_object(Bucket=BUCKET, Key=f"{prefix}/not-an-image.png", Body=b"hello")  # InvalidImageError
    code = main(["traffic", "--count", "10", "--batch", "--bucket", BUCKET])  # every image, twice
    captured = capsys.readouterr()
    assert json.loads(captured.out)["errors"]["InvalidImageError"] == 2
    assert code == 1 and "2 of 10 images failed: InvalidImageError x2" in captured.err
