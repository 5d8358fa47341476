"""``scones etl``: the ETL DAG's work, outside Airflow, against the configured AWS endpoint."""

from __future__ import annotations

import argparse
import json
import sys


def etl(args: argparse.Namespace) -> int:
    import boto3
    from botocore.config import Config

    from scones.errors import SconesError
    from scones.etl.pipeline import run_etl
    from scones.settings import load_settings

    settings = load_settings(
        {
            "source_url": args.source,
            "classes": args.classes,
            "cache_dir": args.cache_dir,
            "upload_concurrency": args.concurrency,
        }
    )
    dataset_uri = args.s3_uri or settings.dataset_uri
    # boto3 honours AWS_ENDPOINT_URL, so the same command serves AWS and the emulator.
    s3 = boto3.client("s3", config=Config(max_pool_connections=settings.upload_concurrency + 4))
    try:
        result = run_etl(
            s3,
            source=settings.source_url,
            classes=list(settings.classes),
            dataset_uri=dataset_uri,
            cache_dir=settings.cache_dir,
            concurrency=settings.upload_concurrency,
        )
    except SconesError as exc:
        print(f"scones etl: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result.to_dict(), indent=2))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("etl", help="extract CIFAR-100, write PNGs and .lst manifests to S3")
    p.add_argument("--source", help="http(s):// URL, s3:// URI or local path of cifar-100-python.tar.gz")
    p.add_argument("--classes", help="comma-separated class names (default bicycle,motorcycle)")
    p.add_argument("--s3-uri", help="s3://BUCKET/PREFIX destination (default from settings)")
    p.add_argument("--cache-dir", help="download cache (default ~/.cache/scones)")
    p.add_argument("--concurrency", type=int, help="concurrent uploads (default 16)")
    p.set_defaults(func=etl)
