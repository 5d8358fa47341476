"""Retention of dataset versions, and buckets in the layout from before versions."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from scones.datasets import new_version, publish_version, resolve_dataset
from scones.deployment.record import Deployment, write_current
from scones.etl.pipeline import run_etl, stage
from scones.etl.retention import protected_versions, prune_versions
from scones.layout import LEGACY_VERSION, DatasetLayout
from scones.settings import load_settings
from scones.training.dataset import describe_dataset
from scones.training.job_config import training_config

from .conftest import TEST_BUCKET

SETTINGS = load_settings({"bucket": TEST_BUCKET, "dataset_prefix": "datasets/keep"}, environ={})
LAYOUT = DatasetLayout.of(SETTINGS)


def write_version(s3, complete: bool = True, age: timedelta = timedelta(0)) -> str:
    version = new_version(datetime.now(UTC) - age)
    s3.put_object(Bucket=TEST_BUCKET, Key=LAYOUT.key(version, "train/bicycle/a.png"), Body=b"png")
    if complete:
        labels = {
            "classes": ["bicycle", "motorcycle"],
            "counts": {"train": {"bicycle": 1}, "validation": {"bicycle": 0}},
        }
        s3.put_object(Bucket=TEST_BUCKET, Key=LAYOUT.labels_key(version), Body=json.dumps(labels).encode())
    return version


def versions_left(s3) -> set[str]:
    keys = [
        o["Key"]
        for p in s3.get_paginator("list_objects_v2").paginate(Bucket=TEST_BUCKET, Prefix=LAYOUT.versions_prefix)
        for o in p.get("Contents", [])
    ]
    return {LAYOUT.version_of_key(k) for k in keys}


def test_retention_keeps_the_published_the_trained_on_and_the_newest(s3):
    trained_on = write_version(s3, age=timedelta(days=30))
    old = [write_version(s3, age=timedelta(days=20 - i)) for i in range(4)]
    published = write_version(s3, age=timedelta(days=1))
    publish_version(s3, LAYOUT, published)
    newer_unpublished = write_version(s3)
    result = prune_versions(s3, LAYOUT, keep=1, protected={trained_on})  # the newest one older than the published
    assert versions_left(s3) == {trained_on, published, newer_unpublished, old[-1]}
    assert set(result.deleted) == set(old[:3])


def test_retention_by_age_and_orphans_of_failed_runs(s3):
    ancient = write_version(s3, age=timedelta(days=10))
    recent = write_version(s3, age=timedelta(days=1))
    orphan = write_version(s3, complete=False, age=timedelta(days=1))
    published = write_version(s3, age=timedelta(hours=12))
    publish_version(s3, LAYOUT, published)
    uploading = write_version(s3, complete=False, age=timedelta(minutes=5))
    result = prune_versions(s3, LAYOUT, keep=5, protected=set(), max_age_days=7)
    assert versions_left(s3) == {published, recent, uploading}
    assert result.deleted == [ancient] and result.orphans_deleted == [orphan]


def test_a_version_staged_after_the_published_one_is_kept_for_its_publisher(s3):
    """Another run staged B and is about to publish it: retention must not delete it (it used to, with keep=0)."""
    published = write_version(s3, age=timedelta(days=2))
    publish_version(s3, LAYOUT, published)
    staged = write_version(s3, age=timedelta(minutes=1))
    result = prune_versions(s3, LAYOUT, keep=0, protected=set())
    assert versions_left(s3) == {published, staged} and result.deleted == []
    assert publish_version(s3, LAYOUT, staged).version == staged


def test_a_staged_version_abandoned_past_the_grace_goes_unless_published_meanwhile(s3):
    published = write_version(s3, age=timedelta(days=2))
    publish_version(s3, LAYOUT, published)
    abandoned = write_version(s3, age=timedelta(hours=8))
    racing = write_version(s3, age=timedelta(hours=7))

    def publish_during_prune(params, **_):  # its run publishes it between the listing and the deletion
        if params.get("Key") == LAYOUT.labels_key(racing):
            s3.meta.events.unregister("provide-client-params.s3.HeadObject", publish_during_prune)
            publish_version(s3, LAYOUT, racing)

    s3.meta.events.register("provide-client-params.s3.HeadObject", publish_during_prune)
    result = prune_versions(s3, LAYOUT, keep=5, protected=set())
    assert result.orphans_deleted == [abandoned]
    assert versions_left(s3) == {published, racing} and resolve_dataset(s3, LAYOUT).version == racing


def test_the_deployment_records_protect_the_versions_models_trained_on(s3):
    for i, version in enumerate(["20261101T000000.000000Z-0000000a", "20261102T000000.000000Z-0000000b"]):
        write_current(
            s3,
            TEST_BUCKET,
            SETTINGS.models_prefix,
            Deployment(
                endpoint_name="e",
                training_job=f"job-{i}",
                model_name=f"m-{i}",
                endpoint_config=f"c-{i}",
                model_data_url="s3://x/y",
                validation_accuracy=0.9,
                classes=["a", "b"],
                deployed_at=f"2026-11-0{i + 1}T00:00:00",
                dataset_version=version,
            ),
        )
    assert protected_versions(s3, SETTINGS) == {"20261101T000000.000000Z-0000000a", "20261102T000000.000000Z-0000000b"}


def legacy_bucket(s3, archive: Path, tmp_path: Path) -> None:
    """Today's unversioned layout: a version's files copied directly under the prefix."""
    result = stage(
        s3, source=str(archive), classes=["bicycle", "motorcycle"], dataset_uri=LAYOUT.uri, cache_dir=tmp_path
    )
    root = LAYOUT.root(result.version) + "/"
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=TEST_BUCKET, Prefix=root):
        for obj in page.get("Contents", []):
            s3.copy_object(
                Bucket=TEST_BUCKET,
                Key=f"{LAYOUT.prefix}/{obj['Key'][len(root) :]}",
                CopySource={"Bucket": TEST_BUCKET, "Key": obj["Key"]},
            )
            s3.delete_object(Bucket=TEST_BUCKET, Key=obj["Key"])


def test_a_bucket_in_the_old_layout_is_read_as_the_legacy_version(s3, cifar_all_classes: Path, tmp_path: Path):
    legacy_bucket(s3, cifar_all_classes, tmp_path)
    dataset = describe_dataset(s3, SETTINGS)
    assert dataset["dataset_version"] == LEGACY_VERSION
    assert dataset["dataset_uri"] == LAYOUT.uri and dataset["num_training_samples"] == 6
    config = training_config(
        job_name="j",
        image="i",
        role_arn="r",
        dataset_uri=dataset["dataset_uri"],
        output_uri="s3://o",
        instance_type="ml.m5.large",
        hyperparameters={},
        dataset_version=dataset["dataset_version"],
    )
    assert config["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] == f"{LAYOUT.uri}/train/"


def test_the_first_run_after_the_upgrade_publishes_a_version_and_leaves_the_old_files(
    s3, cifar_all_classes: Path, tmp_path: Path
):
    legacy_bucket(s3, cifar_all_classes, tmp_path)
    old_labels = s3.get_object(Bucket=TEST_BUCKET, Key=f"{LAYOUT.prefix}/labels.json")["Body"].read()
    result = run_etl(
        s3, source=str(cifar_all_classes), classes=["bicycle", "motorcycle"], dataset_uri=LAYOUT.uri, cache_dir=tmp_path
    )
    assert resolve_dataset(s3, LAYOUT).version == result.version
    assert s3.get_object(Bucket=TEST_BUCKET, Key=f"{LAYOUT.prefix}/labels.json")["Body"].read() == old_labels
    prune_versions(s3, LAYOUT, keep=0, protected=set())
    assert s3.get_object(Bucket=TEST_BUCKET, Key=f"{LAYOUT.prefix}/labels.json")["Body"].read() == old_labels
