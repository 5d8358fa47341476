"""Workflow benchmark: the original project's one-execution-per-image against batched fan-out.

On a fresh local emulator it publishes the shared CIFAR-100 subset (the ETL), trains and
deploys a model (3 epochs; the emulator really trains and predicts), deploys the workflow,
warms it up, then classifies the same 200 validation images twice and prints:

- lambda_cold_invoke_ms / lambda_warm_invoke_ms: Invoke of filter_inferences (no AWS call
  inside), the first one and the median of 50 warm ones: the per-invocation overhead;
- sequential_images_per_s: one single-image execution per image, each started when the
  previous one has ended (how the original project ran its workflow);
- batched_images_per_s: the same images in batch executions of ``--batch-size`` (Map fan-out,
  ``--max-concurrency`` at a time per execution), all started at once;
- *_emulator_cpu_ms_per_image: CPU the emulator process spent per image in each mode. The
  emulator is one Python process (moto's server, the Step Functions interpreter, the endpoint's
  inference; only the Lambda workers are processes of their own), so fan-out cannot go faster
  than one image per batched_emulator_cpu_ms: fan_out_ceiling is that bound over sequential;
- sequential_execution_ms: a single-image execution's own duration (its start to stop date);
  the rest of sequential_seconds_per_image is the client's: StartExecution, and learning of
  the end by polling DescribeExecution every 50 ms. speedup_over_back_to_back_executions is
  batched against a client that lost no time at all: what fan-out gains from overlapping
  the executions themselves;
- both runs' outcomes (succeeded / failed by error), which must be equal, and, last,
  ``speedup: <batched / sequential>``.

The confidence threshold is set between the model's confidences (the median of 20 validation
images, unless ``--threshold``) so both paths, pass and alert, are taken.

Run: ``.venv/bin/python benchmarks/workflow.py`` (a few minutes on two cores, most of it training).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import psutil

from scones.datasets import resolve_dataset
from scones.emulator import EmulatorProcess
from scones.layout import DatasetLayout
from scones.localrun.demo import SHARED_SUBSET
from scones.settings import WorkflowSettings, load_settings
from scones.workflow.deploy import deploy_workflow
from scones.workflow.executions import describe
from scones.workflow.traffic import list_images, run_batches, run_sequentially

IMAGES = 200


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def wait_until(what: str, check, timeout: float = 1800, poll: float = 2.0):
    deadline = time.monotonic() + timeout
    while (result := check()) is None:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not done after {timeout:.0f} s")
        time.sleep(poll)
    return result


def publish_dataset(session, settings, cache_dir: Path) -> None:
    from scones.etl.pipeline import run_etl

    run_etl(
        session.client("s3"),
        source=str(SHARED_SUBSET),
        classes=list(settings.classes),
        dataset_uri=settings.dataset_uri,
        cache_dir=cache_dir,
    )


def train_and_deploy(session, settings) -> None:
    """What scones_train_deploy does, without Airflow: train, then serve on the endpoint."""
    from scones.deployment.endpoint_config import deployment_config_for
    from scones.training.dataset import describe_dataset
    from scones.training.prepare import prepare_training_config

    sm = session.client("sagemaker")
    dataset = describe_dataset(session.client("s3"), settings)
    prepared = prepare_training_config(settings, dataset, session.client("iam"), datetime.now(UTC))
    sm.create_training_job(**prepared["config"])

    def trained():
        job = sm.describe_training_job(TrainingJobName=prepared["job_name"])
        if job["TrainingJobStatus"] in ("Failed", "Stopped"):
            raise RuntimeError(f"training {job['TrainingJobStatus']}: {job.get('FailureReason')}")
        return job if job["TrainingJobStatus"] == "Completed" else None

    job = wait_until("training", trained)
    config = deployment_config_for(settings, job, prepared)  # the train DAG's own config
    sm.create_model(**config["Model"])
    sm.create_endpoint_config(**config["EndpointConfig"])
    sm.create_endpoint(**config["Endpoint"])
    wait_until(
        "endpoint",
        lambda: sm.describe_endpoint(EndpointName=settings.endpoint_name)["EndpointStatus"] == "InService" or None,
    )


def invoke_overhead(session, function_name: str, warm_calls: int = 50) -> tuple[float, float]:
    """(first, median of the warm ones) Invoke latency in ms of a function that calls no service."""
    client = session.client("lambda")
    payload = json.dumps({"inferences": [0.99, 0.01]})

    def once() -> float:
        t0 = time.perf_counter()
        response = client.invoke(FunctionName=function_name, Payload=payload)
        response["Payload"].read()
        assert "FunctionError" not in response, response
        return (time.perf_counter() - t0) * 1000

    cold = once()
    return cold, statistics.median(once() for _ in range(warm_calls))


def median_confidence(session, settings, keys: list[str]) -> float:
    """The median top probability the endpoint gives 20 of ``keys``, to 2 decimals."""
    from scones.workflow.smoke_executions import probe

    s3, runtime = session.client("s3"), session.client("sagemaker-runtime")
    sample = keys[:: max(1, len(keys) // 20)][:20]
    return round(
        statistics.median(
            probe(s3, runtime, settings.bucket, k, settings.endpoint_name, len(settings.classes)).confidence
            for k in sample
        ),
        2,
    )


def emulator_process() -> psutil.Process:
    """The ``scones local-aws`` child this script started."""
    return next(p for p in psutil.Process(os.getpid()).children() if "local-aws" in " ".join(p.cmdline()))


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


@dataclasses.dataclass(frozen=True)
class CpuReading:
    """CPU seconds so far of the emulator and of its Lambda workers (its child processes)."""

    emulator: float
    workers: float
    worker_pids: frozenset[int]

    @classmethod
    def of(cls, emulator: psutil.Process) -> CpuReading:
        """A worker stopped between two readings takes its CPU with it; none stops during the
        timed runs (they idle out after minutes, and the functions do not change)."""
        workers, pids = 0.0, set()
        for child in emulator.children(recursive=True):
            try:
                workers += cpu_seconds(child)
                pids.add(child.pid)
            except psutil.NoSuchProcess:
                pass
        return cls(cpu_seconds(emulator), workers, frozenset(pids))

    def since(self, before: CpuReading) -> tuple[float, float, int]:
        """(emulator CPU s, workers' CPU s, workers started) from ``before`` to this reading."""
        return (
            self.emulator - before.emulator,
            self.workers - before.workers,
            len(self.worker_pids - before.worker_pids),
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=IMAGES)
    parser.add_argument("--batch-size", type=int, default=50, help="images per batch execution")
    parser.add_argument("--max-concurrency", type=int, default=10, help="the batch Map state's MaxConcurrency")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--threshold", type=float, help="confidence threshold (default: the median confidence)")
    args = parser.parse_args()
    if not SHARED_SUBSET.exists():
        log(f"the shared CIFAR-100 subset is missing: {SHARED_SUBSET}")
        return 2

    settings = load_settings({"epochs": args.epochs, "source_url": str(SHARED_SUBSET)}, environ={})
    config = WorkflowSettings(max_concurrency=args.max_concurrency, max_batch_size=max(args.batch_size, 1))
    with EmulatorProcess() as emu, tempfile.TemporaryDirectory() as cache:
        session = emu.session(settings.region)
        session.client("s3").create_bucket(Bucket=settings.bucket)
        t0 = time.perf_counter()
        publish_dataset(session, settings, Path(cache))
        log(f"dataset published in {time.perf_counter() - t0:.1f} s; training ({args.epochs} epochs)...")
        t0 = time.perf_counter()
        train_and_deploy(session, settings)
        log(
            f"endpoint {settings.endpoint_name} InService after {time.perf_counter() - t0:.1f} s; deploying the workflow..."
        )
        validation = resolve_dataset(session.client("s3"), DatasetLayout.of(settings)).channel_prefix("validation")
        keys = list_images(session.client("s3"), settings.bucket, validation)[: args.images]
        threshold = args.threshold if args.threshold is not None else median_confidence(session, settings, keys)
        settings = dataclasses.replace(settings, confidence_threshold=threshold)
        deployed = deploy_workflow(session.client, settings, config)
        single, batch = (deployed["state_machines"][s]["arn"] for s in ("classify_image", "classify_batch"))
        sfn, emulator = session.client("stepfunctions"), emulator_process()
        cold_ms, warm_ms = invoke_overhead(session, settings.names.function("filter_inferences"))
        # Warm every function's workers (as a steady service would have them) before timing:
        # the batched run once untimed, so its concurrency finds as many warm workers as it uses.
        run_sequentially(sfn, single, settings.bucket, keys[:3])
        run_batches(sfn, batch, settings.bucket, keys, args.batch_size)

        log(f"classifying {len(keys)} images one execution at a time...")
        before = CpuReading.of(emulator)
        # Polling every 50 ms: the client learns of the end quickly, and costs the emulator little.
        sequential = run_sequentially(sfn, single, settings.bucket, keys, poll=0.05)
        between = CpuReading.of(emulator)
        log(f"classifying them in batches of {args.batch_size}...")
        batched = run_batches(sfn, batch, settings.bucket, keys, args.batch_size, poll=0.05)
        sequential_cpu, sequential_workers_cpu, sequential_started = between.since(before)
        batched_cpu, batched_workers_cpu, batched_started = CpuReading.of(emulator).since(between)
        # Each single-image execution's own duration, from its start and stop dates: the
        # sequential time per image less the client's round trips and its polling delay.
        durations = sorted(describe(sfn, arn).seconds for arn in sequential.execution_arns)

    same = sequential.statuses == batched.statuses and sequential.errors == batched.errors
    print(f"images: {len(keys)} (confidence threshold {threshold})")
    print(f"lambda_cold_invoke_ms: {cold_ms:.1f}")
    print(f"lambda_warm_invoke_ms: {warm_ms:.1f}")
    print(f"sequential_executions: {sequential.executions}")
    print(f"sequential_seconds: {sequential.seconds:.2f}")
    print(f"sequential_seconds_per_image: {sequential.seconds / len(keys):.3f}")
    print(f"sequential_images_per_s: {sequential.images_per_second:.2f}")
    print(
        f"sequential_execution_ms: median {statistics.median(durations) * 1000:.0f}, "
        f"90th percentile {durations[int(len(durations) * 0.9)] * 1000:.0f} (start to stop date)"
    )
    print(f"sequential_emulator_cpu_ms_per_image: {sequential_cpu / len(keys) * 1000:.0f}")
    print(
        f"sequential_lambda_workers_cpu_ms_per_image: {sequential_workers_cpu / len(keys) * 1000:.0f} "
        f"({sequential_started} workers started)"
    )
    print(
        f"batched_executions: {batched.executions} (batch size {args.batch_size}, MaxConcurrency {args.max_concurrency})"
    )
    print(f"batched_seconds: {batched.seconds:.2f}")
    print(f"batched_images_per_s: {batched.images_per_second:.2f}")
    print(f"batched_emulator_cpu_ms_per_image: {batched_cpu / len(keys) * 1000:.0f}")
    print(
        f"batched_lambda_workers_cpu_ms_per_image: {batched_workers_cpu / len(keys) * 1000:.0f} "
        f"({batched_started} workers started)"
    )
    print(
        f"fan_out_ceiling: {sequential.seconds / batched_cpu:.2f} (sequential time over the emulator's CPU time batched)"
    )
    print(
        f"speedup_over_back_to_back_executions: {batched.images_per_second * statistics.median(durations):.2f} "
        "(batched against executions started the instant the previous one stops, with no client delay)"
    )
    print(
        f"outcomes: {dict(sequential.statuses)} {dict(sequential.errors)}; batched {'same' if same else 'DIFFERENT: ' + str(dict(batched.statuses))}"
    )
    print(f"speedup: {batched.images_per_second / sequential.images_per_second:.2f}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
