"""A DAG param that is a setting takes its default from Settings, never a literal of its own."""

from __future__ import annotations

import re
from dataclasses import fields

import pytest

from scones.localrun.airflow_home import DAGS_FOLDER
from scones.settings import Settings, WorkflowSettings

PARAM = re.compile(r'"(\w+)": Param\(\s*([^,]+),')
TOP = {f.name for f in fields(Settings)}
WORKFLOW = {f.name for f in fields(WorkflowSettings)} - TOP


@pytest.mark.parametrize("dag_file", sorted(DAGS_FOLDER.glob("*.py")), ids=lambda p: p.stem)
def test_setting_params_default_to_the_settings(dag_file):
    params = PARAM.findall(dag_file.read_text())
    assert params, f"{dag_file.name}: no params found (has the Param(...) layout changed?)"
    for name, default in params:
        if name in TOP:
            assert re.fullmatch(rf"(list\()?DEFAULTS\.{name}\)?", default.strip()), (
                f"{dag_file.name}: {name} defaults to {default}"
            )
        elif name in WORKFLOW:
            assert default.strip() == f"DEFAULTS.workflow.{name}", f"{dag_file.name}: {name} defaults to {default}"


def test_tasks_read_no_setting_from_params_with_a_default_of_their_own():
    for dag_file in DAGS_FOLDER.glob("*.py"):
        for name in re.findall(r'params(?: or \{\}\))?\.get\("(\w+)", [^)]', dag_file.read_text()):
            assert name not in TOP | WORKFLOW, (
                f"{dag_file.name} reads {name} from params with its own default: use task_settings"
            )
