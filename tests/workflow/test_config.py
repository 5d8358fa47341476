from __future__ import annotations

from pathlib import Path

import pytest

from scones.errors import ConfigurationError
from scones.settings import PROJECT_ROOT, WorkflowSettings, load_settings


def test_defaults_and_environment():
    assert load_settings(environ={}).workflow == WorkflowSettings()
    config = load_settings(environ={"SCONES_WORKFLOW_MAX_CONCURRENCY": "20", "SCONES_WORKFLOW_SOURCE_DIR": "/opt/airflow"}).workflow
    assert config.max_concurrency == 20 and config.lambdas_dir == Path("/opt/airflow/lambdas")


def test_overrides_win_and_none_is_ignored():
    config = load_settings({"workflow": {"max_concurrency": 5, "max_batch_size": None}},
                           environ={"SCONES_WORKFLOW_MAX_CONCURRENCY": "20"}).workflow  # fmt: skip
    assert (config.max_concurrency, config.max_batch_size) == (5, 100)


def test_variables_set_the_section_too():
    variables = {"scones_workflow_smoke_batch_size": "7"}.get
    assert load_settings(variables=variables, environ={"SCONES_WORKFLOW_SMOKE_BATCH_SIZE": "3"}).workflow.smoke_batch_size == 7


@pytest.mark.parametrize(
    ("overrides", "message"),
    [({"max_concurrency": "many"}, r"max_concurrency='many' \(override\) is not a valid int"),
     ({"max_concurrency": 0}, "between 1 and 40"), ({"max_batch_size": 101}, "between 1 and 100"),
     ({"smoke_tests": "maybe"}, "smoke_tests='maybe'.*say one of"), ({"colour": "red"}, "unknown workflow setting")],
)  # fmt: skip
def test_bad_values_are_named(overrides, message):
    with pytest.raises(ConfigurationError, match=message):
        load_settings({"workflow": overrides}, environ={})


def test_a_bad_environment_value_names_its_variable():
    with pytest.raises(ConfigurationError, match="environment SCONES_WORKFLOW_LAMBDA_TIMEOUT"):
        load_settings(environ={"SCONES_WORKFLOW_LAMBDA_TIMEOUT": "30s"})


def test_every_name_derives_from_the_project_id():
    settings = load_settings({"project": "muffins"}, environ={})
    names = settings.names
    assert names.function("classify_image") == "muffins-classify-image"
    assert names.function_role("classify_image") == "muffins-classify-image-role"
    assert names.state_machine("classify_batch") == "muffins-batch-classification"
    assert names.workflow_alerts_topic == "muffins-workflow-alerts"
    assert settings.workflow_images_prefix == "datasets/cifar100-vehicles/"
    assert WorkflowSettings().source_dir == PROJECT_ROOT and (PROJECT_ROOT / "statemachine").is_dir()


def test_task_params_reach_the_section():
    from scones.settings import split_overrides

    overrides = split_overrides({"max_concurrency": 12, "confidence_threshold": 0.5, "fail_on_violation": False})
    assert overrides == {"confidence_threshold": 0.5, "workflow": {"max_concurrency": 12}}
    assert load_settings(overrides, environ={}).workflow.max_concurrency == 12
