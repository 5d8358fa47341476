from __future__ import annotations

import json

from .conftest import assert_ok, list_keys, published_root


def test_etl_dag_publishes_the_shared_subset(local_airflow, emulator_session, settings):
    s3 = emulator_session.client("s3")
    # A prefix of its own: other modules on this worker's emulator publish, break and restore
    # the default one, which would blur the "nothing uploaded twice" check below.
    prefix = "datasets/etl-e2e"
    run = local_airflow.test_dag("scones_cifar_etl", conf={"dataset_prefix": prefix})
    assert_ok(run)

    root = published_root(s3, settings, prefix)
    assert root and root.startswith(f"{prefix}/versions/")
    objects = list_keys(s3, settings.bucket, prefix + "/")
    assert len([k for k in objects if k.startswith(f"{root}/train/") and k.endswith(".png")]) == 1000
    assert len([k for k in objects if k.startswith(f"{root}/validation/") and k.endswith(".png")]) == 200
    labels = json.loads(s3.get_object(Bucket=settings.bucket, Key=f"{root}/labels.json")["Body"].read())
    assert labels["classes"] == ["bicycle", "motorcycle"]
    for channel, expected in (("train", 1000), ("validation", 200)):
        lst = s3.get_object(Bucket=settings.bucket, Key=f"{root}/{channel}_lst/{channel}.lst")["Body"].read().decode()
        rows = [line.split("\t") for line in lst.splitlines()]
        assert len(rows) == expected
        for _, label, path in rows:  # the label is the class of the folder the image sits in
            assert labels["classes"][int(label)] == path.split("/")[0]
            assert f"{root}/{channel}/{path}" in objects
        assert sorted(int(label) for _, label, _ in rows).count(0) == expected // 2

    # A second run publishes a new version and rewrites nothing of the first (same keys, same
    # LastModified): a model trained on the first still traces to its exact images.
    again = local_airflow.test_dag("scones_cifar_etl", conf={"dataset_prefix": prefix})
    assert_ok(again)
    new_root = published_root(s3, settings, prefix)
    assert new_root != root
    after = list_keys(s3, settings.bucket, prefix + "/")
    rewritten = [k for k in objects if k.startswith(root) and after.get(k) != objects[k]]
    assert not rewritten, f"a published version was changed: {rewritten[:5]}"
    assert len([k for k in after if k.startswith(f"{new_root}/") and k.endswith(".png")]) == 1200


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
