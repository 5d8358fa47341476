"""Every DAG imports cleanly, fast, without heavy modules, and follows the house policy."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from scones.localrun.airflow_home import DAGS_FOLDER

DAG_FILES = sorted(p for p in DAGS_FOLDER.glob("*.py") if not p.name.startswith("_"))
HEAVY_MODULES = ("numpy", "pandas", "matplotlib", "PIL", "sagemaker", "sklearn", "polars")


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=DAGS_FOLDER)  # examples are off: conftest sets LOAD_EXAMPLES


def test_there_are_dags():
    assert DAG_FILES, f"no DAG files found in {DAGS_FOLDER}"


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_imports_without_error(dagbag, path: Path):
    errors = {Path(k).name: v for k, v in dagbag.import_errors.items()}
    assert path.name not in errors, errors.get(path.name)


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_parsing_imports_no_heavy_module(path: Path):
    # A fresh interpreter: what parsing this file imports, and nothing the tests loaded.
    code = (
        "import runpy, sys, json; runpy.run_path(sys.argv[1]); "
        f"print(json.dumps([m for m in {list(HEAVY_MODULES)!r} if m in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_dag_ids_match_file_names(dagbag):
    assert {d.fileloc and Path(d.fileloc).stem for d in dagbag.dags.values()} == {p.stem for p in DAG_FILES}
    assert all(Path(d.fileloc).stem == dag_id for dag_id, d in dagbag.dags.items())


def test_policy(dagbag):
    for dag_id, dag in dagbag.dags.items():
        assert dag.tags and "scones" in dag.tags, f"{dag_id}: tag it 'scones'"
        assert dag.doc_md and dag.description, f"{dag_id}: needs doc_md and a description"
        assert dag.catchup is not None and dag.max_active_runs >= 1
        for t in dag.tasks:
            assert t.owner not in (None, "", "airflow"), f"{dag_id}.{t.task_id}: set an owner"
            assert t.retries >= 1, f"{dag_id}.{t.task_id}: needs retries"


def test_params_defaults_validate(dagbag):
    for dag_id, dag in dagbag.dags.items():
        dag.params.validate()  # raises ParamValidationError on a default that breaks its schema


def ui_form_value(default):
    """What the trigger form holds for a default: it turns an empty field ("" or unset) into null."""
    return None if default in (None, "") else default


def test_every_dag_can_be_triggered_from_the_ui_with_its_defaults(dagbag):
    """The form marks a param required when its type does not admit null, and then refuses a
    null value: the Trigger button stays disabled (Airflow UI, flexibleForm's required check)."""
    import jsonschema

    for dag_id, dag in dagbag.dags.items():
        for name, param in dag.params.items():
            value, schema = ui_form_value(param.value), param.schema
            types = schema.get("type")
            required = bool(types) and (not isinstance(types, list) or "null" not in types)
            assert not (required and value is None), f"{dag_id}.{name}: required by the form but empty by default"
            jsonschema.validate(value, schema)


def test_smoke_executions_are_only_started_even_where_operators_defer_by_default(tmp_path: Path):
    # docker-compose sets default_deferrable; the provider reads it when its module is
    # imported, hence a fresh interpreter. Deferred, StepFunctionStartExecutionOperator would
    # fail the task on the threshold case's FAILED execution, which the DAG expects.
    code = (
        "import runpy, sys; dag = runpy.run_path(sys.argv[1])['scones_deploy_workflow'](); "
        "print(dag.get_task('start_smoke_executions').partial_kwargs['deferrable'])"
    )
    env = {**os.environ, "AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE": "true"}
    out = subprocess.run([sys.executable, "-c", code, str(DAGS_FOLDER / "scones_deploy_workflow.py")],
                         capture_output=True, text=True, env=env, check=True)  # fmt: skip
    assert out.stdout.strip().splitlines()[-1] == "False", out.stdout + out.stderr


def test_a_bad_workflow_value_breaks_only_the_workflow_dag():
    # A fresh interpreter, since scones.airflow_glue reads the environment when first imported.
    code = (
        "import runpy, sys, json\n"
        "errors = {}\n"
        "for path in sys.argv[1:]:\n"
        "    try:\n"
        "        runpy.run_path(path)\n"
        "    except Exception as exc:\n"
        "        errors[path.rsplit('/', 1)[1]] = f'{type(exc).__name__}: {exc}'\n"
        "print(json.dumps(errors))"
    )
    env = {**os.environ, "SCONES_WORKFLOW_MAX_CONCURRENCY": "100"}
    out = subprocess.run([sys.executable, "-c", code, *map(str, DAG_FILES)], capture_output=True, text=True, env=env, check=True)
    errors = json.loads(out.stdout.strip().splitlines()[-1])
    assert set(errors) <= {"scones_deploy_workflow.py"}, errors
    for message in errors.values():  # the workflow DAG itself says what to fix
        assert "max_concurrency='100' from environment SCONES_WORKFLOW_MAX_CONCURRENCY" in message
