from __future__ import annotations

from pathlib import Path

import pytest

from scones.errors import ConfigurationError
from scones.settings import load_settings
from scones.workflow.config import PROJECT_ROOT, WorkflowConfig, WorkflowNames, load_workflow_config


def test_defaults_and_environment():
    assert load_workflow_config(environ={}) == WorkflowConfig()
    config = load_workflow_config(environ={"SCONES_WORKFLOW_MAX_CONCURRENCY": "20", "SCONES_WORKFLOW_SOURCE_DIR": "/opt/airflow"})
    assert config.max_concurrency == 20 and config.lambdas_dir == Path("/opt/airflow/lambdas")


def test_overrides_win_and_none_is_ignored():
    config = load_workflow_config({"max_concurrency": 5, "max_batch_size": None}, environ={"SCONES_WORKFLOW_MAX_CONCURRENCY": "20"})
    assert (config.max_concurrency, config.max_batch_size) == (5, 100)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [({"max_concurrency": "many"}, "max_concurrency='many' is not a valid int"), ({"max_concurrency": 0}, "between 1 and 40"),
     ({"max_batch_size": 101}, "between 1 and 100"), ({"colour": "red"}, "unknown workflow setting")],
)  # fmt: skip
def test_bad_values_are_named(overrides, message):
    with pytest.raises(ConfigurationError, match=message):
        load_workflow_config(overrides, environ={})


def test_every_name_derives_from_the_project_id():
    names = WorkflowNames(load_settings({"project": "muffins"}, environ={}), WorkflowConfig())
    assert names.function("classify_image") == "muffins-classify-image"
    assert names.function_role("classify_image") == "muffins-classify-image-role"
    assert names.state_machine("classify_batch") == "muffins-batch-classification"
    assert names.alerts_topic == "muffins-workflow-alerts"
    assert names.images_prefix == "datasets/cifar100-vehicles/"
    assert WorkflowConfig().source_dir == PROJECT_ROOT and (PROJECT_ROOT / "statemachine").is_dir()
