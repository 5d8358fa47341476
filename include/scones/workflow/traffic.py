"""Send test images through the deployed workflow, so the monitor has traffic to analyse.

Three ways, as ``scones traffic`` offers them:

- **sequential** (no rate): one single-image execution at a time, each started when the
  previous one ended: how the original project ran its workflow;
- **stream** (``rate``): single-image executions started at a steady rate, not waiting;
- **burst** (``batch``): the images split into batch executions (fan-out in a Map state),
  all started at once.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from scones.workflow.errors import WorkflowError
from scones.workflow.executions import Outcome, run_and_wait, start_execution, wait_for_executions

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


@dataclass
class TrafficReport:
    mode: str
    executions: int = 0
    images: int = 0
    seconds: float = 0.0
    statuses: Counter[str] = field(default_factory=Counter)  # per image: SUCCEEDED / FAILED
    errors: Counter[str] = field(default_factory=Counter)  # per failed image: its error name
    execution_arns: list[str] = field(default_factory=list)
    waited: bool = True  # False: the executions were only started (no outcomes, no rate)

    @property
    def images_per_second(self) -> float:
        return self.images / self.seconds if self.seconds else 0.0

    def count(self, result: dict[str, Any] | Outcome) -> None:
        """Tally one image's result (a batch's per-image result, or a single execution)."""
        if isinstance(result, Outcome):
            result = {
                "status": "SUCCEEDED" if result.status == "SUCCEEDED" else "FAILED",
                "error": result.error or result.status,
            }
        self.statuses[result.get("status", "UNKNOWN")] += 1
        if result.get("status") != "SUCCEEDED":
            self.errors[result.get("error") or "unknown"] += 1

    def to_dict(self) -> dict[str, Any]:
        if not self.waited:  # what to follow up on, not a rate of starts that says nothing of classifying
            return {
                "mode": self.mode,
                "executions": self.executions,
                "images": self.images,
                "waited": False,
                "execution_arns": list(self.execution_arns),
            }
        return {
            "mode": self.mode,
            "executions": self.executions,
            "images": self.images,
            "seconds": round(self.seconds, 3),
            "images_per_second": round(self.images_per_second, 2),
            "statuses": dict(self.statuses),
            "errors": dict(self.errors),
        }


def list_images(s3: Any, bucket: str, prefix: str) -> list[str]:
    """Image keys under ``prefix``, sorted."""
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    keys = sorted(
        o["Key"] for page in pages for o in page.get("Contents", []) if o["Key"].lower().endswith(IMAGE_SUFFIXES)
    )
    if not keys:
        raise WorkflowError(
            f"no images under s3://{bucket}/{prefix}: run the ETL first (scones_cifar_etl) or pass --source-prefix"
        )
    return keys


def choose_images(keys: Sequence[str], count: int, seed: int = 0) -> list[str]:
    """``count`` keys: a seeded shuffle of ``keys``, repeated as often as needed."""
    shuffled = list(keys)
    random.Random(seed).shuffle(shuffled)
    return [shuffled[i % len(shuffled)] for i in range(count)]


def run_sequentially(
    sfn: Any, single_arn: str, bucket: str, keys: Sequence[str], timeout: float = 600, poll: float = 0.05
) -> TrafficReport:
    """One execution per image, each started when the previous one has ended."""
    report = TrafficReport("sequential")
    started = time.perf_counter()
    for key in keys:
        outcome = run_and_wait(sfn, single_arn, {"s3_bucket": bucket, "s3_key": key}, timeout=timeout, poll=poll)
        report.execution_arns.append(outcome.arn)
        report.count(outcome)
    report.seconds = time.perf_counter() - started
    report.executions = report.images = len(keys)
    return report


def run_stream(
    sfn: Any,
    single_arn: str,
    bucket: str,
    keys: Sequence[str],
    rate: float,
    wait: bool = True,
    timeout: float = 600,
    poll: float = 0.2,
) -> TrafficReport:
    """One execution per image, started ``rate`` per second whether or not earlier ones ended."""
    report = TrafficReport("stream")
    started = time.perf_counter()
    for i, key in enumerate(keys):
        if (delay := started + i / rate - time.perf_counter()) > 0:
            time.sleep(delay)
        report.execution_arns.append(start_execution(sfn, single_arn, {"s3_bucket": bucket, "s3_key": key}))
    report.executions = report.images = len(keys)
    report.waited = wait
    if wait:
        for outcome in wait_for_executions(sfn, report.execution_arns, timeout=timeout, poll=poll).values():
            report.count(outcome)
    report.seconds = time.perf_counter() - started
    return report


def run_batches(
    sfn: Any,
    batch_arn: str,
    bucket: str,
    keys: Sequence[str],
    batch_size: int,
    wait: bool = True,
    timeout: float = 600,
    poll: float = 0.2,
) -> TrafficReport:
    """The images in batch executions of at most ``batch_size`` (fan-out), all started at once."""
    report = TrafficReport("burst")
    started = time.perf_counter()
    for first in range(0, len(keys), batch_size):
        images = [{"s3_bucket": bucket, "s3_key": key} for key in keys[first : first + batch_size]]
        report.execution_arns.append(start_execution(sfn, batch_arn, {"images": images}))
    report.executions, report.images = len(report.execution_arns), len(keys)
    report.waited = wait
    if wait:
        outcomes = wait_for_executions(sfn, report.execution_arns, timeout=timeout, poll=poll)
        for arn in report.execution_arns:
            outcome = outcomes[arn]
            if outcome.status != "SUCCEEDED":
                raise WorkflowError(f"batch execution {arn} ended {outcome.status}: {outcome.error}: {outcome.cause}")
            for result in outcome.output["results"]:
                report.count(result)
    report.seconds = time.perf_counter() - started
    return report
