from __future__ import annotations

import re
from pathlib import Path

import pytest

from scones.errors import ConfigurationError
from scones.settings import PROJECT_ROOT, WorkflowSettings, load_settings
from scones.ui.context import PageContext


def test_defaults_and_environment():
    assert load_settings(environ={}).workflow == WorkflowSettings()
    config = load_settings(
        environ={"SCONES_WORKFLOW_MAX_CONCURRENCY": "20", "SCONES_WORKFLOW_SOURCE_DIR": "/opt/airflow"}
    ).workflow
    assert config.max_concurrency == 20 and config.lambdas_dir == Path("/opt/airflow/lambdas")


def test_overrides_win_and_none_is_ignored():
    config = load_settings(
        {"workflow": {"max_concurrency": 5, "max_batch_size": None}}, environ={"SCONES_WORKFLOW_MAX_CONCURRENCY": "20"}
    ).workflow
    assert (config.max_concurrency, config.max_batch_size) == (5, 100)


def test_variables_set_the_section_too():
    variables = {"scones_workflow_smoke_batch_size": "7"}.get
    assert (
        load_settings(variables=variables, environ={"SCONES_WORKFLOW_SMOKE_BATCH_SIZE": "3"}).workflow.smoke_batch_size
        == 7
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"max_concurrency": "many"}, r"max_concurrency='many' \(override\) is not a valid int"),
        ({"max_concurrency": 0}, "between 1 and 40"),
        ({"max_batch_size": 101}, "between 1 and 100"),
        ({"smoke_tests": "maybe"}, "smoke_tests='maybe'.*say one of"),
        ({"colour": "red"}, "unknown workflow setting"),
    ],
)
def test_bad_values_are_named(overrides, message):
    settings = load_settings({"workflow": overrides}, environ={})
    with pytest.raises(ConfigurationError, match=message):
        _ = settings.workflow.max_concurrency


def test_a_bad_environment_value_names_its_variable():
    with pytest.raises(ConfigurationError, match="environment SCONES_WORKFLOW_LAMBDA_TIMEOUT"):
        _ = load_settings(environ={"SCONES_WORKFLOW_LAMBDA_TIMEOUT": "30s"}).workflow.lambda_timeout


@pytest.mark.parametrize(
    ("environ", "variables"),
    [
        ({"SCONES_WORKFLOW_MAX_CONCURRENCY": "100"}, {}),
        ({}, {"scones_workflow_max_concurrency": "100"}),
        ({}, {"scones_workflow_smoke_tests": "maybe"}),
    ],
)
def test_a_bad_workflow_value_fails_only_where_the_section_is_read(environ, variables):
    settings = load_settings(variables=variables.get, environ=environ)  # what every task and the UI page do
    assert (
        settings.endpoint_name == "scones-endpoint" and settings.names.monitor_alerts_topic == "scones-monitor-alerts"
    )
    assert PageContext(s3=lambda: None, variables=lambda: variables.get).bucket() == "scones-unlimited-ml"
    source = "environment SCONES_WORKFLOW_MAX_CONCURRENCY" if environ else f"Airflow Variable {next(iter(variables))}"
    with pytest.raises(ConfigurationError, match=source):
        _ = settings.workflow.max_concurrency
    with pytest.raises(ConfigurationError, match=source):
        _ = settings.names.workflow_alerts_topic


@pytest.mark.parametrize(
    ("environ", "variables", "source"),
    [
        (
            {"SCONES_WORKFLOW_MAX_CONCURRENCY": "100"},
            {},
            "max_concurrency='100' from environment SCONES_WORKFLOW_MAX_CONCURRENCY",
        ),
        (
            {},
            {"scones_workflow_lambda_memory": "64"},
            "lambda_memory='64' from Airflow Variable scones_workflow_lambda_memory",
        ),
        ({"SCONES_UPLOAD_CONCURRENCY": "0"}, {}, "upload_concurrency='0' from environment SCONES_UPLOAD_CONCURRENCY"),
    ],
)
def test_an_out_of_range_value_names_where_it_came_from(environ, variables, source):
    with pytest.raises(ConfigurationError, match=re.escape(source)):
        _ = load_settings(variables=variables.get, environ=environ).workflow.max_concurrency


def test_a_section_that_is_not_a_mapping_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="workflow is a section"):
        load_settings({"workflow": "x"}, environ={})


def test_only_the_environment_chooses_the_directory_zipped_into_the_lambdas(tmp_path):
    from scones.settings import split_overrides

    elsewhere = str(tmp_path)
    by_variable = load_settings(variables={"scones_workflow_source_dir": elsewhere}.get, environ={})
    by_param = load_settings(split_overrides({"source_dir": elsewhere}), environ={})
    assert by_variable.workflow.source_dir == by_param.workflow.source_dir == PROJECT_ROOT
    assert load_settings(environ={"SCONES_WORKFLOW_SOURCE_DIR": elsewhere}).workflow.source_dir == tmp_path


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
