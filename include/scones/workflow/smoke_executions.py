"""Smoke executions after a deployment: what to run, and what each run must end with.

The images are chosen by asking the endpoint first: the most confident validation image must
come through the single-image workflow classified as the endpoint said; the least confident
one, below the threshold, must fail with ``ThresholdConfidenceNotMet`` (and alert); a batch
of validation images plus one missing image must succeed as a whole, each image ending as its
probe predicts and the missing one failing alone with ``ImageNotFoundError``.

Cases and expectations are plain dicts, so they travel through XCom::

    {"kind": "success", "state_machine": "single", "input": {...}, "expect": {...}}
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from scones.deployment import describe_endpoint
from scones.deployment.endpoint_smoke import check_probabilities
from scones.errors import SmokeTestFailed
from scones.workflow.errors import EndpointNotReady, EndpointNotServing
from scones.workflow.executions import Outcome

log = logging.getLogger(__name__)

THRESHOLD_ERROR = "ThresholdConfidenceNotMet"
NOT_FOUND_ERROR = "ImageNotFoundError"
#: Chosen single-image cases keep this distance from the threshold, so rounding cannot flip them.
MARGIN = 0.005
TRANSIENT_ENDPOINT_STATUSES = {"Creating", "Updating", "SystemUpdating", "RollingBack"}


@dataclass(frozen=True)
class Probe:
    """What the endpoint itself says about one image."""

    key: str
    predicted_label: int
    confidence: float


def check_endpoint(sagemaker: Any, name: str) -> dict[str, Any]:
    """The endpoint's description if it serves.

    :raises EndpointNotServing: it does not exist, or is in a state it will not leave by itself
        (a :class:`~scones.errors.NonRetryableError`: the task fails at once).
    :raises EndpointNotReady: it is being created or updated (the task's retries apply: one may pass).
    """
    # Throttled, denied, a service error: raised as they are, not a verdict on the endpoint (the
    # task's retries apply).
    endpoint = describe_endpoint(sagemaker, name)
    if endpoint is None:
        raise EndpointNotServing(
            f"endpoint {name!r} does not exist, so the workflow cannot classify: deploy a model first "
            "(trigger scones_train_deploy), then rerun this DAG"
        )
    status = endpoint["EndpointStatus"]
    if status != "InService":
        kind = EndpointNotReady if status in TRANSIENT_ENDPOINT_STATUSES else EndpointNotServing
        raise kind(f"endpoint {name!r} is {status}, not InService: {endpoint.get('FailureReason') or 'wait for it'}")
    return endpoint


def validation_prefix(s3: Any, settings: Any) -> str:
    """The validation images the serving model did not train on: those of the dataset version its
    deployment record names, else (no record, or one from before versions) the published version's."""
    from scones.datasets import resolve_dataset
    from scones.deployment.record import read_current
    from scones.layout import DatasetLayout

    layout = DatasetLayout.of(settings)
    record = read_current(s3, settings.bucket, settings.models_prefix)
    if record is not None and record.dataset_version:
        return layout.channel_prefix(record.dataset_version, "validation")
    return resolve_dataset(s3, layout).channel_prefix("validation")


def validation_keys(s3: Any, bucket: str, validation_root: str, classes: Iterable[str]) -> Iterator[str]:
    """Validation images under ``validation_root`` (``.../validation/``), the classes interleaved
    (one of each, then the next of each...)."""
    per_class = []
    for name in classes:
        prefix = f"{validation_root.rstrip('/')}/{name}/"
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        per_class.append(
            sorted(o["Key"] for page in pages for o in page.get("Contents", []) if o["Key"].endswith(".png"))
        )
    for row in range(max((len(keys) for keys in per_class), default=0)):
        yield from (keys[row] for keys in per_class if row < len(keys))


def probe(s3: Any, runtime: Any, bucket: str, key: str, endpoint: str, num_classes: int) -> Probe:
    image = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    body = runtime.invoke_endpoint(EndpointName=endpoint, ContentType="image/png", Body=image)["Body"].read()
    try:
        probabilities = check_probabilities(body, num_classes)
    except SmokeTestFailed as exc:
        raise SmokeTestFailed(f"endpoint {endpoint!r} on s3://{bucket}/{key}: {exc}") from exc
    label = max(range(num_classes), key=probabilities.__getitem__)
    return Probe(key, label, probabilities[label])


def probe_until_planned(probes: Iterable[Probe], threshold: float, batch_size: int, limit: int) -> list[Probe]:
    """Probes until there is a sure success, a sure low-confidence image and a batch, or ``limit``."""
    taken: list[Probe] = []
    for p in probes:
        taken.append(p)
        sure_success = any(t.confidence >= threshold + MARGIN for t in taken)
        sure_low = any(t.confidence < threshold - MARGIN for t in taken)
        if (sure_success and sure_low and len(taken) >= batch_size) or len(taken) >= limit:
            break
    return taken


def expected_result(p: Probe, threshold: float) -> dict[str, Any]:
    if p.confidence >= threshold:
        return {"status": "SUCCEEDED", "predicted_label": p.predicted_label}
    return {"status": "FAILED", "error": THRESHOLD_ERROR}


def plan_smoke_cases(
    probes: list[Probe], bucket: str, threshold: float, batch_size: int, missing_key: str
) -> list[dict[str, Any]]:
    """The three smoke cases from the probes; fails if the probes cannot make them."""
    sure = [p for p in probes if p.confidence >= threshold + MARGIN]
    low = [p for p in probes if p.confidence < threshold - MARGIN]
    spread = (
        f"confidences {min(p.confidence for p in probes):.3f}-{max(p.confidence for p in probes):.3f}"
        if probes
        else "no images"
    )
    if not sure or not low:
        missing = (
            f"none scored at least {threshold + MARGIN:.3f}"
            if not sure
            else f"none scored below {threshold - MARGIN:.3f}"
        )
        raise SmokeTestFailed(
            f"of {len(probes)} validation images ({spread}), {missing}, so the "
            f"{'success' if not sure else 'threshold'} path cannot be checked: probe more images (smoke_candidates) "
            "or check the model"
        )
    best = max(sure, key=lambda p: p.confidence)
    worst = min(low, key=lambda p: p.confidence)
    batch = probes[:batch_size]
    images = [{"s3_bucket": bucket, "s3_key": p.key} for p in batch] + [{"s3_bucket": bucket, "s3_key": missing_key}]
    results = [expected_result(p, threshold) for p in batch] + [{"status": "FAILED", "error": NOT_FOUND_ERROR}]
    return [
        {
            "kind": "success",
            "state_machine": "single",
            "input": {"s3_bucket": bucket, "s3_key": best.key},
            "expect": {"status": "SUCCEEDED", "predicted_label": best.predicted_label, "confidence": best.confidence},
        },
        {
            "kind": "low_confidence",
            "state_machine": "single",
            "input": {"s3_bucket": bucket, "s3_key": worst.key},
            "expect": {"status": "FAILED", "error": THRESHOLD_ERROR, "confidence": worst.confidence},
        },
        {
            "kind": "batch",
            "state_machine": "batch",
            "input": {"images": images},
            "expect": {"status": "SUCCEEDED", "results": results},
        },
    ]


def name_smoke_cases(
    cases: list[dict[str, Any]], machines: Mapping[str, str], run_id: str | None
) -> list[dict[str, Any]]:
    """Each case with the ARN of the state machine it runs on and a unique execution name that says
    where an alert came from: ``smoke-low_confidence-<run>-<random>`` (``<run>``: the run id's hash)."""
    run = hashlib.sha1((run_id or "manual").encode()).hexdigest()[:8]
    return [
        {
            **case,
            "state_machine_arn": machines["classify_batch" if case["state_machine"] == "batch" else "classify_image"],
            "name": f"smoke-{case['kind']}-{run}-{uuid.uuid4().hex[:8]}",
        }
        for case in cases
    ]


def plan_smoke_executions(
    s3: Any, runtime: Any, sagemaker: Any, settings: Any, machines: Mapping[str, str], run_id: str | None
) -> list[dict[str, Any]]:
    """What ``plan_smoke_executions`` of the DAG does: check the endpoint serves, score validation
    images on it, choose the cases, name them. The whole plan uses one dataset version."""
    check_endpoint(sagemaker, settings.endpoint_name)
    config = settings.workflow
    classes = _serving_classes(s3, settings)
    images = validation_prefix(s3, settings)  # resolved once
    keys = validation_keys(s3, settings.bucket, images, classes)
    probes = probe_until_planned(
        (probe(s3, runtime, settings.bucket, key, settings.endpoint_name, len(classes)) for key in keys),
        settings.confidence_threshold,
        config.smoke_batch_size,
        config.smoke_candidates,
    )
    for p in probes:
        log.info("%s: %s %.4f", p.key, classes[p.predicted_label], p.confidence)
    missing = f"{images}_smoke/{uuid.uuid4().hex}.png"
    cases = plan_smoke_cases(probes, settings.bucket, settings.confidence_threshold, config.smoke_batch_size, missing)
    return name_smoke_cases(cases, machines, run_id)


def _serving_classes(s3: Any, settings: Any) -> list[str]:
    from scones.workflow.deploy import serving_classes

    return serving_classes(s3, settings)


def start_kwargs(case: Mapping[str, Any]) -> dict[str, Any]:
    """The start operator's arguments for one smoke case (the expectation stays behind)."""
    return {"state_machine_arn": case["state_machine_arn"], "name": case["name"], "state_machine_input": case["input"]}


def _result_mismatches(where: str, expected: Mapping[str, Any], got: Mapping[str, Any]) -> list[str]:
    problems = []
    if got.get("status") != expected["status"]:
        detail = got.get("error") or got.get("predicted_class") or ""
        problems.append(f"{where}: expected {expected['status']}, got {got.get('status')} {detail}".rstrip())
    elif "error" in expected and got.get("error") != expected["error"]:
        problems.append(f"{where}: expected error {expected['error']}, got {got.get('error')}: {got.get('cause')}")
    elif "predicted_label" in expected and got.get("predicted_label") != expected["predicted_label"]:
        problems.append(
            f"{where}: expected label {expected['predicted_label']} (as the endpoint said), got {got.get('predicted_label')}"
        )
    return problems


def outcome_mismatches(case: Mapping[str, Any], outcome: Outcome) -> list[str]:
    """Every way ``outcome`` differs from ``case["expect"]``, as sentences."""
    expect, kind = case["expect"], case["kind"]
    got = {
        "status": outcome.status,
        "error": outcome.error,
        "cause": outcome.cause,
        **(outcome.output if isinstance(outcome.output, dict) else {}),
    }
    problems = _result_mismatches(f"{kind} ({outcome.arn})", expect, got)
    if problems or "results" not in expect:
        return problems
    results = (outcome.output or {}).get("results")
    if not isinstance(results, list) or len(results) != len(expect["results"]):
        return [f"{kind}: expected {len(expect['results'])} per-image results, got {str(results)[:300]}"]
    for i, (wanted, result) in enumerate(zip(expect["results"], results, strict=True)):
        problems += _result_mismatches(f"{kind} image {i} ({case['input']['images'][i]['s3_key']})", wanted, result)
    return problems


def check_smoke_outcomes(cases: list[Mapping[str, Any]], outcomes: list[Outcome]) -> dict[str, Any]:
    """Raise :class:`SmokeTestFailed` listing every mismatch; else a summary per case."""
    problems = [p for case, outcome in zip(cases, outcomes, strict=True) for p in outcome_mismatches(case, outcome)]
    if problems:
        raise SmokeTestFailed("smoke executions did not end as expected:\n  " + "\n  ".join(problems))
    return {
        case["kind"]: {"status": o.status, "error": o.error, "seconds": o.seconds}
        for case, o in zip(cases, outcomes, strict=True)
    }
