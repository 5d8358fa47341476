"""Smoke planning and checking: cases from the endpoint's own answers, outcomes against them."""

from __future__ import annotations

import io
import json

import pytest
from airflow.sdk.definitions.retry_policy import RetryAction
from botocore.exceptions import ClientError

from scones.airflow_glue import RETRY_POLICY
from scones.errors import NonRetryableError, SmokeTestFailed
from scones.workflow.errors import EndpointNotServing
from scones.workflow.executions import Outcome, start_execution, wait_for_executions
from scones.workflow.smoke_executions import (
    Probe,
    check_endpoint,
    check_smoke_outcomes,
    name_smoke_cases,
    outcome_mismatches,
    plan_smoke_cases,
    probe,
    probe_until_planned,
    validation_keys,
)

from .conftest import DATASET, IMAGES, TEST_CONFIG, TEST_SETTINGS, run_handlers_as_lambdas

BUCKET = TEST_SETTINGS.bucket
PROBES = [Probe(key, max(range(2), key=p.__getitem__), max(p)) for key, p in IMAGES.items()]
MISSING = f"{DATASET}/validation/_smoke/missing.png"


def test_plan_takes_the_surest_and_the_least_sure_image():
    cases = plan_smoke_cases(PROBES, BUCKET, threshold=0.93, batch_size=3, missing_key=MISSING)
    success, low, batch = cases
    assert success["input"] == {"s3_bucket": BUCKET, "s3_key": PROBES[0].key}  # 0.99
    assert success["expect"]["predicted_label"] == 0
    assert low["input"]["s3_key"] == PROBES[2].key and low["expect"]["error"] == "ThresholdConfidenceNotMet"  # 0.55
    assert [i["s3_key"] for i in batch["input"]["images"]] == [p.key for p in PROBES[:3]] + [MISSING]
    assert [r["status"] for r in batch["expect"]["results"]] == ["SUCCEEDED", "SUCCEEDED", "FAILED", "FAILED"]
    assert batch["expect"]["results"][-1]["error"] == "ImageNotFoundError"
    json.dumps(cases)  # they travel through XCom


def test_plan_fails_clearly_when_no_image_is_below_the_threshold():
    sure_only = [p for p in PROBES if p.confidence > 0.95]
    with pytest.raises(
        SmokeTestFailed, match=r"of 2 validation images \(confidences 0.970-0.990\), none scored below 0.925"
    ):
        plan_smoke_cases(sure_only, BUCKET, 0.93, 2, MISSING)


def test_images_right_at_the_threshold_are_not_chosen_for_the_single_cases():
    near = [Probe("a", 0, 0.931), Probe("b", 0, 0.929)]
    with pytest.raises(SmokeTestFailed):
        plan_smoke_cases(near, BUCKET, 0.93, 2, MISSING)


def test_probing_stops_once_the_plan_is_possible():
    calls = []

    def probes():
        for p in PROBES * 10:
            calls.append(p)
            yield p

    assert len(probe_until_planned(probes(), 0.93, batch_size=3, limit=40)) == 3
    calls.clear()
    assert len(probe_until_planned(probes(), 0.999, batch_size=3, limit=7)) == 7  # never a sure success


def outcome(status: str, output=None, error=None) -> Outcome:
    return Outcome(arn="arn:x", status=status, output=output, error=error, cause="because")


def test_mismatches_are_reported_per_case_and_per_image():
    success, low, batch = plan_smoke_cases(PROBES, BUCKET, 0.93, 2, MISSING)
    assert outcome_mismatches(success, outcome("SUCCEEDED", {"status": "SUCCEEDED", "predicted_label": 0})) == []
    assert outcome_mismatches(success, outcome("SUCCEEDED", {"predicted_label": 1}))[0].startswith(
        "success (arn:x): expected label 0"
    )
    assert outcome_mismatches(low, outcome("FAILED", error="ThresholdConfidenceNotMet")) == []
    assert (
        "expected error ThresholdConfidenceNotMet, got EndpointError"
        in outcome_mismatches(low, outcome("FAILED", error="EndpointError"))[0]
    )
    assert "expected FAILED, got SUCCEEDED" in outcome_mismatches(low, outcome("SUCCEEDED", {}))[0]
    good = {
        "results": [
            {"status": "SUCCEEDED", "predicted_label": 0},
            {"status": "SUCCEEDED", "predicted_label": 1},
            {"status": "FAILED", "error": "ImageNotFoundError"},
        ]
    }
    assert outcome_mismatches(batch, outcome("SUCCEEDED", good)) == []
    bad = {"results": [*good["results"][:2], {"status": "SUCCEEDED", "predicted_label": 0}]}
    [problem] = outcome_mismatches(batch, outcome("SUCCEEDED", bad))
    assert problem.startswith(f"batch image 2 ({MISSING}): expected FAILED")
    assert "expected 3 per-image results" in outcome_mismatches(batch, outcome("SUCCEEDED", {"results": []}))[0]
    with pytest.raises(SmokeTestFailed, match="did not end as expected"):
        check_smoke_outcomes([success, low], [outcome("SUCCEEDED", {"predicted_label": 0}), outcome("SUCCEEDED", {})])


def test_a_missing_endpoint_is_named_and_not_retried(moto_aws):
    with pytest.raises(
        EndpointNotServing, match="endpoint 'scones-endpoint' does not exist.*trigger scones_train_deploy"
    ) as error:
        check_endpoint(moto_aws("sagemaker"), "scones-endpoint")
    assert isinstance(error.value, NonRetryableError)
    decision = RETRY_POLICY.evaluate(error.value, try_number=1, max_tries=3)
    assert decision.action == RetryAction.FAIL and "NonRetryableError" in decision.reason


def test_an_error_that_is_no_verdict_on_the_endpoint_is_raised_as_is(moto_aws):
    """Throttling or a denied call says nothing about the endpoint: the task retries, not fails for good."""
    sagemaker = moto_aws("sagemaker")

    def describe_endpoint(**_):
        raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "DescribeEndpoint")

    sagemaker.describe_endpoint = describe_endpoint
    with pytest.raises(ClientError, match="ThrottlingException"):
        check_endpoint(sagemaker, "scones-endpoint")


def test_validation_keys_interleave_the_classes(moto_aws, dataset):
    keys = list(validation_keys(moto_aws("s3"), BUCKET, f"{DATASET}/validation/", ["bicycle", "motorcycle"]))
    assert [k.split("/")[-2] for k in keys] == ["bicycle", "motorcycle", "bicycle", "motorcycle"]


class FakeRuntime:
    """sagemaker-runtime's invoke_endpoint as a plain function of the image."""

    def __init__(self, answers: dict[bytes, list[float]]) -> None:
        self.answers = answers

    def invoke_endpoint(self, EndpointName: str, ContentType: str, Body: bytes) -> dict:
        assert ContentType == "image/png"
        return {"Body": io.BytesIO(json.dumps(self.answers[Body]).encode())}


def test_smoke_end_to_end_in_moto(moto_aws, dataset, monkeypatch):
    from scones.workflow.deploy import deploy_workflow

    run_handlers_as_lambdas(monkeypatch, dataset)
    deployed = deploy_workflow(moto_aws, TEST_SETTINGS, TEST_CONFIG)
    s3, sfn = moto_aws("s3"), moto_aws("stepfunctions")
    keys = validation_keys(s3, BUCKET, f"{DATASET}/validation/", ["bicycle", "motorcycle"])
    probes = probe_until_planned(
        (probe(s3, FakeRuntime(dataset), BUCKET, k, "scones-endpoint", 2) for k in keys), 0.93, 4, 40
    )
    cases = plan_smoke_cases(probes, BUCKET, 0.93, 4, MISSING)
    machines = {
        "single": deployed["state_machines"]["classify_image"]["arn"],
        "batch": deployed["state_machines"]["classify_batch"]["arn"],
    }
    arns = [start_execution(sfn, machines[c["state_machine"]], c["input"]) for c in cases]
    outcomes = wait_for_executions(sfn, arns, timeout=60, poll=0.05)
    summary = check_smoke_outcomes(cases, [outcomes[a] for a in arns])
    assert summary["success"]["status"] == "SUCCEEDED"
    assert (summary["low_confidence"]["status"], summary["low_confidence"]["error"]) == (
        "FAILED",
        "ThresholdConfidenceNotMet",
    )
    assert summary["batch"]["status"] == "SUCCEEDED"


MACHINES = {
    "classify_image": "arn:aws:states:us-east-1:123456789012:stateMachine:scones-image-classification",
    "classify_batch": "arn:aws:states:us-east-1:123456789012:stateMachine:scones-batch-classification",
}
NAME_RE = r"smoke-(success|low_confidence|batch)-(?P<run>[0-9a-f]{8})-[0-9a-f]{8}"


def test_each_case_runs_on_its_state_machine_under_a_name_that_says_where_it_came_from():
    import hashlib
    import re

    cases = plan_smoke_cases(PROBES, BUCKET, 0.93, 2, MISSING)
    named = name_smoke_cases(cases, MACHINES, "scheduled__2026-11-29T02:00:00+00:00")
    assert [c["state_machine_arn"] for c in named] == [
        MACHINES["classify_image"],
        MACHINES["classify_image"],
        MACHINES["classify_batch"],
    ]
    run = hashlib.sha1(b"scheduled__2026-11-29T02:00:00+00:00").hexdigest()[:8]
    for case, original in zip(named, cases, strict=True):
        match = re.fullmatch(NAME_RE, case["name"])
        assert match and case["name"].startswith(f"smoke-{case['kind']}-{run}-"), case["name"]
        assert {k: v for k, v in case.items() if k not in ("name", "state_machine_arn")} == original
    again = name_smoke_cases(cases, MACHINES, "scheduled__2026-11-29T02:00:00+00:00")
    assert {c["name"] for c in again}.isdisjoint(c["name"] for c in named), "a rerun must not reuse an execution name"
    manual = name_smoke_cases(cases, MACHINES, None)[0]["name"]
    assert manual.startswith(f"smoke-success-{hashlib.sha1(b'manual').hexdigest()[:8]}-")


def serving_endpoint(sagemaker) -> None:
    """An InService endpoint named as the settings name it (moto creates it InService)."""
    sagemaker.create_model(
        ModelName="scones-train-1",
        ExecutionRoleArn="arn:aws:iam::123456789012:role/r",
        PrimaryContainer={"Image": "image-classification:1"},
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName="scones-train-1-config",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": "scones-train-1",
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
            }
        ],
    )
    sagemaker.create_endpoint(EndpointName=TEST_SETTINGS.endpoint_name, EndpointConfigName="scones-train-1-config")


def test_plan_smoke_executions_scores_the_validation_images_and_names_the_cases(moto_aws, dataset):
    import re

    from scones.settings import load_settings
    from scones.workflow.smoke_executions import plan_smoke_executions

    serving_endpoint(moto_aws("sagemaker"))
    settings = load_settings({"bucket": BUCKET, "workflow": {"smoke_batch_size": 3}}, environ={})
    runtime = FakeRuntime(dataset)
    cases = plan_smoke_executions(moto_aws("s3"), runtime, moto_aws("sagemaker"), settings, MACHINES, "manual__1")
    success, low, batch = cases
    keys = list(IMAGES)  # bicycle 0.99, motorcycle 0.97, bicycle 0.55, motorcycle 0.80: interleaved, in that order
    assert success["input"] == {"s3_bucket": BUCKET, "s3_key": keys[0]} and success["expect"]["predicted_label"] == 0
    assert low["input"]["s3_key"] == keys[2] and low["expect"]["error"] == "ThresholdConfidenceNotMet"
    batch_keys = [i["s3_key"] for i in batch["input"]["images"]]
    assert batch_keys[:3] == keys[:3], "the batch is the first smoke_batch_size probed images"
    assert re.fullmatch(rf"{DATASET}/validation/_smoke/[0-9a-f]{{32}}\.png", batch_keys[3]), "plus one missing image"
    assert [c["state_machine_arn"] for c in cases] == [MACHINES["classify_image"]] * 2 + [MACHINES["classify_batch"]]
    assert all(re.fullmatch(NAME_RE, c["name"]) for c in cases)
    json.dumps(cases)  # they travel through XCom


def test_plan_smoke_executions_fails_at_once_without_an_endpoint(moto_aws, dataset):
    from scones.workflow.smoke_executions import plan_smoke_executions

    with pytest.raises(EndpointNotServing, match="does not exist"):
        plan_smoke_executions(
            moto_aws("s3"), FakeRuntime(dataset), moto_aws("sagemaker"), TEST_SETTINGS, MACHINES, None
        )
