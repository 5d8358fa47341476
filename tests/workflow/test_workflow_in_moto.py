"""The real definitions, run by moto's Step Functions interpreter, calling the real handlers.

What the end-to-end tests check on the emulator, checked here in-process: the data each step
gets, the alert on failure, the Fail state's error, and the batch's per-image results.
"""

from __future__ import annotations

import itertools
import json

import pytest

from scones.workflow.deploy import deploy_workflow
from scones.workflow.executions import start_execution
from tests.conftest import wait_for_execution

from .conftest import (
    CONFIDENT_KEY,
    IMAGES,
    TEST_CONFIG,
    TEST_SETTINGS,
    UNSURE_KEY,
    in_process_aws,
    put_dataset,
    received_alerts,
    run_handlers_as_lambdas,
    subscribe_queue,
)

BUCKET = TEST_SETTINGS.bucket
QUEUES = itertools.count()  # a queue per test: it reads only its own executions' alerts


@pytest.fixture(scope="module")
def deployment():
    """One moto, one dataset and one deployment for the module's tests: they change neither, and
    each reads only what its own executions did (:func:`workflow`)."""
    with pytest.MonkeyPatch.context() as monkeypatch, in_process_aws() as client:
        invoked = run_handlers_as_lambdas(monkeypatch, put_dataset(client))
        yield client, deploy_workflow(client, TEST_SETTINGS, TEST_CONFIG), invoked


@pytest.fixture
def workflow(deployment):
    """The deployment, with this test's own log of Lambda calls and its own alerts queue."""
    client, deployed, invoked = deployment
    invoked.clear()
    queue = subscribe_queue(client, deployed["alerts_topic_arn"], name=f"alerts-{next(QUEUES)}")
    return {
        "client": client,
        "deployed": deployed,
        "queue": queue,
        "invoked": invoked,
        "single": deployed["state_machines"]["classify_image"]["arn"],
        "batch": deployed["state_machines"]["classify_batch"]["arn"],
    }


def execute(workflow, machine: str, payload) -> dict:
    sfn = workflow["client"]("stepfunctions")
    return wait_for_execution(sfn, start_execution(sfn, workflow[machine], payload), timeout=60)


def test_a_confident_image_is_classified(workflow):
    done = execute(workflow, "single", {"s3_bucket": BUCKET, "s3_key": CONFIDENT_KEY})
    assert done["status"] == "SUCCEEDED", done
    assert json.loads(done["output"]) == {
        "status": "SUCCEEDED",
        "s3_bucket": BUCKET,
        "s3_key": CONFIDENT_KEY,
        "predicted_label": 0,
        "predicted_class": "bicycle",
        "confidence": 0.99,
        "inferences": [0.99, 0.01],
    }
    assert [name.rsplit("-", 2)[-2:] for name in workflow["invoked"]] == [
        ["image", "data"],
        ["classify", "image"],
        ["filter", "inferences"],
    ]
    assert received_alerts(workflow["client"], workflow["queue"]) == []


def test_the_original_projects_event_still_works(workflow):
    done = execute(workflow, "single", {"image_data": "", "s3_bucket": BUCKET, "s3_key": CONFIDENT_KEY})
    assert done["status"] == "SUCCEEDED"


def test_low_confidence_fails_the_execution_and_alerts_with_the_image(workflow):
    done = execute(workflow, "single", {"s3_bucket": BUCKET, "s3_key": UNSURE_KEY})
    assert done["status"] == "FAILED"
    assert done["error"] == "ThresholdConfidenceNotMet"
    assert "top confidence 0.5500 (bicycle)" in done["cause"]
    [alert] = received_alerts(workflow["client"], workflow["queue"])
    message = json.loads(alert["Message"])
    assert message["error"] == "ThresholdConfidenceNotMet"
    assert message["image"] == {"s3_bucket": BUCKET, "s3_key": UNSURE_KEY}
    assert "below the threshold 0.93" in message["cause"]
    assert message["execution"] == done["executionArn"].rsplit(":", 1)[1]
    assert (message["execution_arn"], message["state_machine"]) == (done["executionArn"], "scones-image-classification")
    assert message["failed_at"].startswith(done["startDate"].strftime("%Y-%m-%d"))  # when, for the on-call person
    assert alert["MessageAttributes"]["error"]["Value"] == "ThresholdConfidenceNotMet"


def test_a_missing_image_alerts_with_the_lambdas_error_name(workflow):
    done = execute(workflow, "single", {"s3_bucket": BUCKET, "s3_key": "nope/missing.png"})
    assert (done["status"], done["error"]) == ("FAILED", "ImageNotFoundError")
    [alert] = received_alerts(workflow["client"], workflow["queue"])
    assert json.loads(alert["Message"])["image"]["s3_key"] == "nope/missing.png"


def test_a_malformed_input_is_refused_before_any_lambda(workflow):
    done = execute(workflow, "single", {"bucket": BUCKET})
    assert (done["status"], done["error"]) == ("FAILED", "MissingKeyError")
    assert workflow["invoked"] == []
    [alert] = received_alerts(workflow["client"], workflow["queue"])
    assert json.loads(alert["Message"])["image"] == {"bucket": BUCKET}


def test_a_batch_fans_out_and_one_failure_does_not_fail_the_others(workflow):
    images = [{"s3_bucket": BUCKET, "s3_key": key} for key in IMAGES] + [{"s3_bucket": BUCKET, "s3_key": "nope.png"}]
    done = execute(workflow, "batch", {"images": images})
    assert done["status"] == "SUCCEEDED", done
    results = json.loads(done["output"])["results"]
    assert [(r["status"], r.get("predicted_class") or r["error"]) for r in results] == [
        ("SUCCEEDED", "bicycle"),
        ("SUCCEEDED", "motorcycle"),
        ("FAILED", "ThresholdConfidenceNotMet"),
        ("FAILED", "ThresholdConfidenceNotMet"),
        ("FAILED", "ImageNotFoundError"),
    ]
    assert results[4]["image"] == {"s3_bucket": BUCKET, "s3_key": "nope.png"}
    assert len(received_alerts(workflow["client"], workflow["queue"])) == 3  # one per failed image


@pytest.mark.parametrize(
    "payload",
    [{"image": []}, {"images": []}, {"images": "x"}, {"images": {"s3_key": "k"}}, {"images": None}],
    ids=["no-images", "empty", "a-string", "an-object", "null"],
)
def test_a_batch_without_a_list_of_images_is_refused(workflow, payload):
    done = execute(workflow, "batch", payload)
    assert (done["status"], done["error"]) == ("FAILED", "MissingKeyError"), done
    assert "a non-empty list" in done["cause"] and workflow["invoked"] == []


def test_a_batch_over_the_limit_is_refused_before_any_lambda(workflow):
    """Its results could outgrow 256 KiB, which AWS ends with States.DataLimitExceeded past any Catch."""
    images = [{"s3_bucket": BUCKET, "s3_key": "k.png"}] * (TEST_CONFIG.max_batch_size + 1)
    done = execute(workflow, "batch", {"images": images})
    assert (done["status"], done["error"]) == ("FAILED", "BatchTooLargeError")
    assert f"at most {TEST_CONFIG.max_batch_size} images" in done["cause"] and workflow["invoked"] == []
    at_limit = execute(
        workflow, "batch", {"images": [{"s3_bucket": BUCKET, "s3_key": CONFIDENT_KEY}] * TEST_CONFIG.max_batch_size}
    )
    assert at_limit["status"] == "SUCCEEDED"
