from __future__ import annotations

from pathlib import Path

import pytest

from scones.errors import ConfigurationError
from scones.settings import DEFAULT_CLASSES, load_settings


def test_defaults():
    s = load_settings(environ={})
    assert s.classes == DEFAULT_CLASSES and s.dataset_uri == "s3://scones-unlimited-ml/datasets/cifar100-vehicles"


def test_precedence_override_then_variable_then_environment():
    env = {"SCONES_BUCKET": "from-env", "SCONES_REGION": "eu-west-1", "SCONES_CLASSES": "bus,tank"}
    variables = {"scones_bucket": "from-variable", "scones_classes": "rocket"}.get
    s = load_settings({"classes": ["tractor", "train"]}, variables=variables, environ=env)
    assert s.classes == ("tractor", "train")  # Param wins
    assert s.bucket == "from-variable"  # Variable beats environment
    assert s.region == "eu-west-1"  # environment beats default


def test_types_are_coerced_from_strings():
    s = load_settings(
        environ={"SCONES_UPLOAD_CONCURRENCY": "4", "SCONES_CONFIDENCE_THRESHOLD": "0.5", "SCONES_CACHE_DIR": "~/x"}
    )
    assert s.upload_concurrency == 4 and s.confidence_threshold == 0.5
    assert s.cache_dir == Path("~/x").expanduser()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"bucket": "Bad_Bucket"}, "not a valid S3 bucket"),
        ({"bucket": "good-bucket\n"}, "not a valid S3 bucket"),
        ({"upload_concurrency": "lots"}, "not a valid"),
        ({"confidence_threshold": 1.5}, "between 0 and 1"),
        ({"no_such_setting": 1}, "unknown setting"),
    ],
)
def test_bad_values_are_reported(overrides, message):
    with pytest.raises(ConfigurationError, match=message):
        load_settings(overrides, environ={})
