"""The page reads the bucket and endpoint the monitor DAG uses: Variables, then the environment;
the endpoint the deployment record names."""

from __future__ import annotations

import json

from scones.deployment.record import current_key
from scones.ui.context import PageContext

from .conftest import BUCKET


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def test_variables_set_the_bucket_and_are_reread_after_the_ttl(s3, monkeypatch):
    monkeypatch.delenv("SCONES_BUCKET", raising=False)
    variables, asked, clock = {"scones_bucket": BUCKET}, [], Clock()

    def lookup():
        asked.append(1)
        return variables.get

    context = PageContext(lambda: s3, variables=lookup, ttl=30, clock=clock)
    assert context.bucket() == BUCKET, "a Variable wins over the default, as in the DAG's tasks"
    variables["scones_bucket"] = "another-bucket"
    clock.now = 29
    assert context.bucket() == BUCKET and len(asked) == 1, "not re-read on every request"
    clock.now = 30
    assert context.bucket() == "another-bucket"


def test_the_endpoint_is_the_one_the_deployment_record_names(s3, monkeypatch):
    monkeypatch.setenv("SCONES_BUCKET", BUCKET)
    context = PageContext(lambda: s3)
    assert context.endpoint() == context.settings().endpoint_name, "before the first deployment: the settings' name"
    record = {
        "endpoint_name": "scones-endpoint-blue",
        "training_job": "j",
        "model_name": "m",
        "endpoint_config": "c",
        "model_data_url": "s3://x",
        "validation_accuracy": 0.9,
        "classes": ["a", "b"],
        "deployed_at": "2026-11-22T00:00:00Z",
    }
    key = current_key(context.settings().models_prefix)
    s3.put_object(Bucket=BUCKET, Key=key, Body=json.dumps(record))
    assert context.endpoint() == "scones-endpoint-blue"
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"{half")
    assert context.endpoint() == context.settings().endpoint_name, "an unreadable record: the settings' name, logged"
