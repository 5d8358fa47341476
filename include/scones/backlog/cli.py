"""``scones classify-backlog``: every image under an S3 prefix, classified into one predictions file."""

from __future__ import annotations

import argparse
import json
import sys


def classify_backlog(args: argparse.Namespace) -> int:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    from scones.backlog.classify import classify_backlog as run
    from scones.deployment.record import read_current
    from scones.errors import SconesError
    from scones.settings import load_settings

    try:
        settings = load_settings({"bucket": args.bucket})
        session = boto3.Session(region_name=settings.region)
        model, classes = args.model, args.classes.split(",") if args.classes else None
        if model is None:
            deployment = read_current(session.client("s3"), settings.bucket, settings.models_prefix)
            if deployment is None:
                print(
                    f"scones classify-backlog: no deployment recorded in s3://{settings.bucket}/"
                    f"{settings.models_prefix}/deployments/current.json; deploy a model, or name one with --model "
                    "and --classes",
                    file=sys.stderr,
                )
                return 2
            model, classes = deployment.model_name, classes or deployment.classes
        report = run(
            session,
            args.input,
            args.output,
            model,
            classes or list(settings.classes),
            instance_type=args.instance_type,
            max_concurrent=args.max_concurrent,
            timeout=args.timeout,
            poll=args.poll,
            project=settings.project,
        )
    except (SconesError, ClientError, BotoCoreError) as exc:
        print(f"scones classify-backlog: {exc}", file=sys.stderr)
        return 1
    print(
        json.dumps(
            {
                "transform_job": report.transform_job,
                "model": model,
                "images": report.images,
                "per_class": report.per_class,
                "predictions": report.predictions_uri,
            },
            indent=2,
        )
    )
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "classify-backlog",
        help="classify every image under an S3 prefix into one predictions file (SageMaker batch transform)",
        description="Runs one SageMaker batch transform job of the serving model (from the deployment record, or "
        "--model) over every image under --input and writes one JSON Lines predictions file to --output. Prints a "
        "JSON summary.",
    )
    p.add_argument("--input", required=True, help="s3://bucket/prefix/ of the images")
    p.add_argument("--output", required=True, help="s3://bucket/key of the predictions file (must not exist)")
    p.add_argument("--model", help="SageMaker model name (default: the one models/deployments/current.json records)")
    p.add_argument("--classes", help="comma-separated class names in label order (default: the deployment's)")
    p.add_argument("--bucket", help="bucket of the deployment record (default from settings)")
    p.add_argument("--instance-type", default="ml.m5.large")
    p.add_argument("--max-concurrent", type=int, default=4, help="MaxConcurrentTransforms")
    p.add_argument("--timeout", type=float, default=3600, help="seconds to wait for the transform job")
    p.add_argument("--poll", type=float, default=5, help="seconds between status checks")
    p.set_defaults(func=classify_backlog)
