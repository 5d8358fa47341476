"""``scones traffic``: send test images through the deployed workflow (for the monitor, or a load test)."""

from __future__ import annotations

import argparse
import json
import sys


def _positive(kind: type) -> object:
    def parse(text: str) -> object:
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be positive, got {text}")
        return value

    return parse


def traffic(args: argparse.Namespace) -> int:
    import boto3
    from botocore.exceptions import ClientError

    from scones.errors import SconesError
    from scones.settings import load_settings
    from scones.workflow.config import WorkflowNames, load_workflow_config
    from scones.workflow.roles import account_context
    from scones.workflow.statemachines import state_machine_arn
    from scones.workflow.traffic import choose_images, list_images, run_batches, run_sequentially, run_stream

    try:
        settings = load_settings({"bucket": args.bucket})
        config = load_workflow_config({"max_batch_size": args.batch_size})
        names = WorkflowNames(settings, config)
        # boto3 honours AWS_ENDPOINT_URL: the same command serves AWS and the local emulator.
        session = boto3.Session(region_name=settings.region)
        sfn = session.client("stepfunctions")
        context = account_context(session.client("sts"), settings.region)
        machine = state_machine_arn(context, names.state_machine("classify_batch" if args.batch else "classify_image"))
        try:
            sfn.describe_state_machine(stateMachineArn=machine)
        except ClientError:
            print(f"scones traffic: {machine} does not exist: deploy the workflow first (trigger scones_deploy_workflow)", file=sys.stderr)
            return 1
        prefix = args.source_prefix or f"{settings.dataset_prefix.strip('/')}/validation/"
        keys = choose_images(list_images(session.client("s3"), settings.bucket, prefix), args.count, args.seed)
        wait = not args.no_wait
        if args.batch:
            report = run_batches(sfn, machine, settings.bucket, keys, config.max_batch_size, wait=wait, timeout=config.wait_timeout)
        elif args.rate:
            report = run_stream(sfn, machine, settings.bucket, keys, args.rate, wait=wait, timeout=config.wait_timeout)
        else:
            report = run_sequentially(sfn, machine, settings.bucket, keys, timeout=config.wait_timeout)
    except SconesError as exc:
        print(f"scones traffic: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(report.to_dict(), indent=2))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "traffic",
        help="send test images through the classification workflow",
        description="Classify test images with the deployed Step Functions workflow: one at a time (default), "
        "a steady stream (--rate), or a parallel burst of fan-out batches (--batch). Prints a JSON summary.",
    )
    p.add_argument("--count", type=_positive(int), required=True, help="number of images to send (repeated if fewer exist)")
    p.add_argument("--rate", type=_positive(float), help="start this many single-image executions per second (default: one after another)")
    p.add_argument("--batch", action="store_true", help="send them as batch executions (Map fan-out), all at once")
    p.add_argument("--batch-size", type=_positive(int), help="images per batch execution (default 100)")
    p.add_argument("--source-prefix", help="S3 prefix of the images (default <dataset prefix>/validation/)")
    p.add_argument("--bucket", help="bucket of the images (default from settings)")
    p.add_argument("--seed", type=int, default=0, help="which images, in which order")
    p.add_argument("--no-wait", action="store_true", help="start the executions and return without waiting for them")
    p.set_defaults(func=traffic)
