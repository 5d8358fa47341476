"""
Extract CIFAR-100, turn the chosen classes into PNG images and SageMaker .lst manifests, and load them to S3.

### What it does
1. **check_inputs**: the class names exist in CIFAR-100 and the bucket is there and ours.
2. **extract_archive**: download (streamed, md5-verified for the official file) to the cache,
   or reuse a verified cached copy; `http(s)://`, `s3://` and local paths are accepted.
3. **transform_and_upload**: decode the rows, encode PNGs and upload them concurrently, then the
   manifests and `labels.json`, all into a **new version** `versions/<version>/` that no
   reader sees yet. A class with no images, or a file name with a tab or newline, fails here
   before any upload.
4. **publish_manifests**: point `current.json` at the new version in one conditional write
   (if a newer version was published meanwhile, this fails and changes nothing), and update
   the **scones_cifar_vehicles** Asset, which starts training.

A failure before step 4 leaves the published dataset as it was, byte for byte. A source that
cannot be read fails at once (a missing file) or after about two minutes of download retries
(an unreachable URL): set the **Source** field of the trigger form. Offline, the source is
`shared/data/cifar-100-python-bikes.tar.gz` (the bicycle and motorcycle images).
Layout: `docs/dataset-layout.md`.
"""

from __future__ import annotations

from pathlib import Path

import pendulum
from airflow.sdk import Param, chain, dag, task

from scones.airflow_glue import DATASET_ASSET, default_args, task_settings
from scones.settings import VEHICLE_CLASSES, load_settings

DAG_ID = Path(__file__).stem
DEFAULTS = load_settings()  # environment and defaults only: no Variables at parse time


@task
def check_inputs(params: dict | None = None) -> dict:
    """Validate the class names and the destination before any download."""
    from scones.airflow_glue import aws_client
    from scones.etl import resolve_classes
    from scones.etl.load import check_destination

    settings = task_settings(params)
    resolve_classes(settings.classes)
    check_destination(aws_client("s3", settings), settings.bucket)
    return {"source": settings.source_url, "classes": list(settings.classes), "dataset_uri": settings.dataset_uri}


@task
def extract_archive(inputs: dict, params: dict | None = None) -> dict:
    """Fetch the archive into the cache (or reuse the verified cached copy)."""
    from scones.airflow_glue import aws_client
    from scones.etl import fetch_archive

    settings = task_settings(params)
    # An s3:// source is read with the Airflow connection's credentials, as the upload is.
    fetched = fetch_archive(inputs["source"], settings.cache_dir, s3_client=aws_client("s3", settings))
    return {"path": str(fetched.path), "md5": fetched.md5, "bytes": fetched.size, "from_cache": fetched.from_cache}


@task
def transform_and_upload(inputs: dict, archive: dict, params: dict | None = None) -> dict:
    """Encode the images and upload them with the manifests as a new version (not yet visible)."""
    from scones.airflow_glue import aws_client
    from scones.etl import stage

    settings = task_settings(params)
    # Re-fetching is a no-op where the cache is warm, and makes this task safe on a worker
    # that did not run extract_archive; an archive other than the one it checked fails before any upload.
    return stage(
        aws_client("s3", settings, max_pool_connections=settings.upload_concurrency + 4),
        source=inputs["source"],
        classes=inputs["classes"],
        dataset_uri=inputs["dataset_uri"],
        cache_dir=settings.cache_dir,
        concurrency=settings.upload_concurrency,
        expected_md5=archive["md5"],
    ).to_dict()


@task(outlets=[DATASET_ASSET])
def publish_manifests(staged: dict, params: dict | None = None, outlet_events=None) -> dict:
    """Publish the new version (one conditional write of the pointer), then announce it."""
    from scones.airflow_glue import aws_client
    from scones.etl import publish_staged

    settings = task_settings(params)
    summary = publish_staged(aws_client("s3", settings), staged)
    outlet_events[DATASET_ASSET].extra = summary
    print(
        f"published {staged['dataset_uri']} version {staged['version']}: {staged['counts']} ({staged['uploaded']} images)"
    )
    return summary


@dag(
    dag_id=DAG_ID,
    description=__doc__.strip().splitlines()[0],
    doc_md=__doc__,
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=default_args(DEFAULTS),
    tags=["scones", "etl", "cifar-100"],
    params={
        "source_url": Param(
            DEFAULTS.source_url,
            type="string",
            title="Source",
            description="http(s):// URL, s3:// URI or local path of cifar-100-python.tar.gz",
        ),
        "classes": Param(
            list(DEFAULTS.classes),
            type="array",
            items={"type": "string"},
            minItems=1,
            title="Classes",
            description=f"CIFAR-100 class names, in label order. Vehicles: {', '.join(VEHICLE_CLASSES)}",
        ),
        "bucket": Param(DEFAULTS.bucket, type="string", title="Bucket"),
        "dataset_prefix": Param(DEFAULTS.dataset_prefix, type="string", title="Dataset prefix"),
    },
)
def scones_cifar_etl():
    # BODY
    inputs = check_inputs()
    archive = extract_archive(inputs)
    staged = transform_and_upload(inputs, archive)
    published = publish_manifests(staged)
    chain(inputs, archive, staged, published)


scones_cifar_etl()
