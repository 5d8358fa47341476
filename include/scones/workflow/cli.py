"""``scones traffic``: send test images through the deployed workflow (for the monitor, or a load test)."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys

from scones.settings import MAX_BATCH_SIZE

#: Error names that are the workflow working as designed, not a failure of the traffic.
EXPECTED_ERRORS = frozenset({"ThresholdConfidenceNotMet"})


def _positive(kind: type, most: float | None = None) -> object:
    def parse(text: str) -> object:
        value = kind(text)
        if not math.isfinite(value) or value <= 0:
            raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
        if most is not None and value > most:
            raise argparse.ArgumentTypeError(f"must be at most {most:g}, got {text}")
        return value

    parse.__name__ = f"positive {kind.__name__}"  # argparse names the type in its error message
    return parse


def _aws_problem(exc: Exception, settings: object | None) -> str:
    """One line saying what went wrong talking to AWS, and what to check."""
    from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

    if isinstance(exc, EndpointConnectionError):
        where = os.environ.get("AWS_ENDPOINT_URL")
        hint = (
            f"is the emulator (scones local-aws) running at {where}?" if where else "check the network and the region"
        )
        return f"cannot reach AWS: {exc}; {hint}"
    if isinstance(exc, NoCredentialsError):
        return "no AWS credentials: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (any values for the emulator)"
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        if error.get("Code") == "NoSuchBucket":
            bucket = getattr(settings, "bucket", "?")
            return f"bucket {bucket!r} does not exist: pass --bucket, or set SCONES_BUCKET"
        return f"{exc.operation_name} failed: {error.get('Code')}: {error.get('Message')}"
    return f"{type(exc).__name__}: {exc}"


def traffic(args: argparse.Namespace) -> int:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    from scones.datasets import resolve_dataset
    from scones.errors import SconesError
    from scones.layout import DatasetLayout
    from scones.settings import load_settings
    from scones.workflow.roles import account_context
    from scones.workflow.statemachines import state_machine_arn
    from scones.workflow.traffic import choose_images, list_images, run_batches, run_sequentially, run_stream

    settings = None
    try:
        settings = load_settings({"bucket": args.bucket, "workflow": {"max_batch_size": args.batch_size}})
        # Read before any AWS call: a bad workflow value fails here, naming the setting and its source.
        batch_size, timeout = settings.workflow.max_batch_size, settings.workflow.wait_timeout
        # boto3 honours AWS_ENDPOINT_URL: the same command serves AWS and the local emulator.
        session = boto3.Session(region_name=settings.region)
        sfn = session.client("stepfunctions")
        context = account_context(session.client("sts"), settings.region)
        machine = state_machine_arn(
            context, settings.names.state_machine("classify_batch" if args.batch else "classify_image")
        )
        try:
            sfn.describe_state_machine(stateMachineArn=machine)
        except sfn.exceptions.StateMachineDoesNotExist:
            print(
                f"scones traffic: {machine} does not exist: deploy the workflow first (trigger scones_deploy_workflow)",
                file=sys.stderr,
            )
            return 1
        # The dataset's pointer is resolved once: every image comes from the same version.
        prefix = args.source_prefix or resolve_dataset(session.client("s3"), DatasetLayout.of(settings)).channel_prefix(
            "validation"
        )
        keys = choose_images(list_images(session.client("s3"), settings.bucket, prefix), args.count, args.seed)
        wait = not args.no_wait
        if args.batch:
            report = run_batches(sfn, machine, settings.bucket, keys, batch_size, wait=wait, timeout=timeout)
        elif args.rate:
            report = run_stream(sfn, machine, settings.bucket, keys, args.rate, wait=wait, timeout=timeout)
        else:
            report = run_sequentially(sfn, machine, settings.bucket, keys, timeout=timeout)
    except SconesError as exc:
        print(f"scones traffic: {exc}", file=sys.stderr)
        return 1
    except (BotoCoreError, ClientError) as exc:
        print(f"scones traffic: {_aws_problem(exc, settings)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(
            "scones traffic: interrupted; executions already started go on (list them with "
            "aws stepfunctions list-executions)",
            file=sys.stderr,
        )
        return 130
    print(json.dumps({**report.to_dict(), "state_machine": machine}, indent=2))
    unexpected = {name: n for name, n in report.errors.items() if name not in EXPECTED_ERRORS}
    if unexpected:
        print(
            f"scones traffic: {sum(unexpected.values())} of {report.images} images failed: "
            + ", ".join(f"{name} x{n}" for name, n in sorted(unexpected.items())),
            file=sys.stderr,
        )
        return 1
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "traffic",
        help="send test images through the classification workflow",
        description="Classify test images with the deployed Step Functions workflow: one at a time (default), "
        "a steady stream (--rate), or a parallel burst of fan-out batches (--batch). Prints a JSON summary.",
    )
    p.add_argument(
        "--count", type=_positive(int), required=True, help="number of images to send (repeated if fewer exist)"
    )
    p.add_argument(
        "--rate",
        type=_positive(float),
        help="start this many single-image executions per second (default: one after another)",
    )
    p.add_argument("--batch", action="store_true", help="send them as batch executions (Map fan-out), all at once")
    p.add_argument(
        "--batch-size",
        type=_positive(int, MAX_BATCH_SIZE),
        help=f"images per batch execution, with --batch (1-{MAX_BATCH_SIZE}, default {MAX_BATCH_SIZE})",
    )
    p.add_argument(
        "--source-prefix", help="S3 prefix of the images (default: the published dataset version's validation/)"
    )
    p.add_argument("--bucket", help="bucket of the images (default from settings)")
    p.add_argument("--seed", type=int, default=0, help="which images, in which order")
    p.add_argument(
        "--no-wait",
        action="store_true",
        help="with --rate or --batch: start the executions, print their ARNs and return without waiting",
    )
    p.set_defaults(func=traffic, check=_check_combination)


def _check_combination(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse options that would be silently ignored."""
    if args.batch and args.rate:
        parser.error("--rate and --batch are two ways to send: choose one")
    if args.batch_size and not args.batch:
        parser.error("--batch-size applies to --batch only")
    if args.no_wait and not (args.rate or args.batch):
        parser.error("--no-wait needs --rate or --batch: one image at a time waits for each by definition")
