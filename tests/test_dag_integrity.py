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


#: Parses each DAG file given in a fresh process forked from one interpreter that has imported
#: only the Task SDK (what every DAG file imports first): one Airflow import for all the files,
#: not one each. With ``--deferrable``, AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE is set in the
#: child before the file imports the provider, which reads it at import. Prints one JSON line a
#: file: the heavy modules it imported, and its DAG's start_smoke_executions.deferrable if any.
#: With ``--bad-workflow``, one child sets SCONES_WORKFLOW_MAX_CONCURRENCY=100 (out of range)
#: and parses every DAG file in it: the line holds each file's error (scones.airflow_glue reads
#: the environment when first imported, which no child has done before).
PARSE_IN_FORKS = """
import json, os, runpy, sys, traceback
import airflow.sdk
heavy = json.loads(sys.argv[1])
for arg in sys.argv[2:]:
    read, write = os.pipe()
    if os.fork() == 0:
        code = 1
        try:
            os.close(read)
            if arg.startswith("--bad-workflow="):
                os.environ["SCONES_WORKFLOW_MAX_CONCURRENCY"] = "100"
                errors = {}
                for path in arg.removeprefix("--bad-workflow=").split(os.pathsep):
                    try:
                        runpy.run_path(path)
                    except Exception as exc:
                        errors[path.rsplit("/", 1)[1]] = f"{type(exc).__name__}: {exc}"
                os.write(write, json.dumps({"errors": errors}).encode())
                os._exit(0)
            path = arg.removeprefix("--deferrable=")
            if path != arg:
                os.environ["AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE"] = "true"
            namespace = runpy.run_path(path)
            task = None
            if "scones_deploy_workflow" in namespace:
                task = namespace["scones_deploy_workflow"]().get_task("start_smoke_executions").partial_kwargs["deferrable"]
            os.write(write, json.dumps({"heavy": [m for m in heavy if m in sys.modules], "deferrable": task}).encode())
            code = 0
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(code)  # the child never returns into the loop
    os.close(write)
    with os.fdopen(read) as answer:
        line = answer.read()
    _, status = os.wait()
    print(json.dumps({"arg": arg, "status": status, **(json.loads(line) if line else {})}))
"""


@pytest.fixture(scope="module")
def parsed_in_fresh_processes() -> dict[str, dict]:
    """What parsing each DAG file imports, in a process with nothing the tests loaded; the deploy
    workflow's file parsed where operators defer by default; every file parsed with a bad
    workflow setting."""
    args = [str(p) for p in DAG_FILES] + [
        f"--deferrable={DAGS_FOLDER / 'scones_deploy_workflow.py'}",
        f"--bad-workflow={os.pathsep.join(map(str, DAG_FILES))}",
    ]
    out = subprocess.run(
        [sys.executable, "-c", PARSE_IN_FORKS, json.dumps(HEAVY_MODULES), *args],
        capture_output=True,
        text=True,
        check=True,
    )
    results = [json.loads(line) for line in out.stdout.splitlines() if line.startswith('{"arg"')]
    assert [r["arg"] for r in results] == args and all(r["status"] == 0 for r in results), out.stdout + out.stderr
    return {r["arg"]: r for r in results}


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_parsing_imports_no_heavy_module(parsed_in_fresh_processes, path: Path):
    assert parsed_in_fresh_processes[str(path)]["heavy"] == []


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
    for dag in dagbag.dags.values():
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


def test_smoke_executions_are_only_started_even_where_operators_defer_by_default(parsed_in_fresh_processes):
    # docker-compose sets default_deferrable; the provider reads it when its module is
    # imported, hence a fresh process. Deferred, StepFunctionStartExecutionOperator would
    # fail the task on the threshold case's FAILED execution, which the DAG expects.
    parsed = parsed_in_fresh_processes[f"--deferrable={DAGS_FOLDER / 'scones_deploy_workflow.py'}"]
    assert parsed["deferrable"] is False, parsed


def test_a_bad_workflow_value_breaks_only_the_workflow_dag(parsed_in_fresh_processes):
    # A fresh interpreter, since scones.airflow_glue reads the environment when first imported.
    errors = parsed_in_fresh_processes[f"--bad-workflow={os.pathsep.join(map(str, DAG_FILES))}"]["errors"]
    assert set(errors) <= {"scones_deploy_workflow.py"}, errors
    for message in errors.values():  # the workflow DAG itself says what to fix
        assert "max_concurrency='100' from environment SCONES_WORKFLOW_MAX_CONCURRENCY" in message
