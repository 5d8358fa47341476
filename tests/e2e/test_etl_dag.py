from __future__ import annotations

import json

import pytest

from .conftest import assert_ok, list_keys

pytestmark = pytest.mark.e2e


def test_etl_dag_publishes_the_shared_subset(local_airflow, emulator_session, settings):
    s3 = emulator_session.client("s3")
    # A prefix of its own: other modules on this worker's emulator publish, break and restore
    # the default one, which would blur the "nothing uploaded twice" check below.
    prefix = "datasets/etl-e2e"
    run = local_airflow.test_dag("scones_cifar_etl", conf={"dataset_prefix": prefix})
    assert_ok(run)

    objects = list_keys(s3, settings.bucket, prefix + "/")
    assert len([k for k in objects if k.startswith(f"{prefix}/train/") and k.endswith(".png")]) == 1000
    assert len([k for k in objects if k.startswith(f"{prefix}/validation/") and k.endswith(".png")]) == 200
    assert not [k for k in objects if "/_staging/" in k]
    labels = json.loads(s3.get_object(Bucket=settings.bucket, Key=f"{prefix}/labels.json")["Body"].read())
    assert labels["classes"] == ["bicycle", "motorcycle"]
    for channel, expected in (("train", 1000), ("validation", 200)):
        lst = s3.get_object(Bucket=settings.bucket, Key=f"{prefix}/{channel}_lst/{channel}.lst")["Body"].read().decode()
        rows = [line.split("\t") for line in lst.splitlines()]
        assert len(rows) == expected
        for _, label, path in rows:  # the label is the class of the folder the image sits in
            assert labels["classes"][int(label)] == path.split("/")[0]
            assert f"{prefix}/{channel}/{path}" in objects
        assert sorted(int(label) for _, label, _ in rows).count(0) == expected // 2

    # A second run of the same DAG rewrites no image (same keys, same LastModified).
    again = local_airflow.test_dag("scones_cifar_etl", conf={"dataset_prefix": prefix})
    assert_ok(again)
    after = list_keys(s3, settings.bucket, prefix + "/")
    pngs = [k for k in objects if k.endswith(".png")]
    rewritten = [k for k in pngs if after.get(k) != objects[k]]
    assert not rewritten, f"identical images must not be uploaded again: {rewritten[:5]}"
    assert set(after) == set(objects)


def test_bad_class_fails_at_once_and_publishes_nothing(local_airflow, emulator_session, settings):
    run = local_airflow.test_dag(
        "scones_cifar_etl", conf={"classes": ["bicycle", "unicorn"], "dataset_prefix": "datasets/bad-input"}
    )
    assert run.task_states["check_inputs"] == "failed"
    assert run.task_states["publish_manifests"] != "success"
    log = run.log_path.read_text()
    assert "unknown CIFAR-100 class 'unicorn'" in log
    tries = local_airflow.try_numbers("scones_cifar_etl")
    assert tries["check_inputs"] == 1, "bad input must fail without retrying"
    assert list_keys(emulator_session.client("s3"), settings.bucket, "datasets/bad-input/") == {}
