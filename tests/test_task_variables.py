"""When a task may list its Variables' names instead of asking for each setting, and when not.

The listing itself, in a real task, is tested in tests/e2e/test_airflow_runner.py.
"""

from __future__ import annotations

import os

import pytest
from airflow.sdk import Variable
from airflow.sdk.execution_time import supervisor

from scones.airflow_glue import task_variables


class EnvironmentVariablesBackend:
    __module__ = "airflow.secrets.environment_variables"


class ExecutionAPISecretsBackend:
    __module__ = "airflow.sdk.execution_time.secrets.execution_api"


class VaultBackend:
    __module__ = "airflow.providers.hashicorp.secrets.vault"


@pytest.fixture
def variables(monkeypatch):
    """The Variables the API server would answer for, and the names a task asked for."""
    stored = {"scones_bucket": "from-variable"}
    asked: list[str] = []

    def get(key, default=None):  # as a worker's: its environment first, then the API server
        asked.append(key)
        return os.environ.get(f"AIRFLOW_VAR_{key.upper()}") or stored.get(key, default)

    monkeypatch.setattr(Variable, "get", staticmethod(get))
    monkeypatch.setattr(Variable, "keys", staticmethod(lambda prefix=None: [k for k in stored if k.startswith(prefix)]))
    monkeypatch.setenv("AIRFLOW_VAR_SCONES_REGION", "eu-west-3")
    return asked


def backends(monkeypatch, *classes):
    monkeypatch.setattr(supervisor, "ensure_secrets_backend_loaded", lambda: [cls() for cls in classes])


def test_with_the_default_backends_only_the_variables_that_exist_are_asked_for(monkeypatch, variables):
    backends(monkeypatch, EnvironmentVariablesBackend, ExecutionAPISecretsBackend)
    lookup = task_variables()

    assert [lookup(k) for k in ("scones_bucket", "scones_region", "scones_project")] == [
        "from-variable",
        "eu-west-3",
        None,
    ]
    assert variables == ["scones_bucket", "scones_region"]


def test_a_worker_with_a_secrets_backend_of_its_own_asks_for_each_setting(monkeypatch, variables):
    backends(monkeypatch, VaultBackend, EnvironmentVariablesBackend, ExecutionAPISecretsBackend)
    lookup = task_variables()

    assert lookup("scones_project") is None and lookup("scones_bucket") == "from-variable"
    assert variables == ["scones_project", "scones_bucket"]


def test_with_several_teams_each_setting_is_asked_for(monkeypatch, variables):
    """A team's task lists only its team's Variables, where Variable.get also reads the global ones."""
    backends(monkeypatch, EnvironmentVariablesBackend, ExecutionAPISecretsBackend)
    monkeypatch.setenv("AIRFLOW__CORE__MULTI_TEAM", "True")
    lookup = task_variables()

    assert lookup("scones_project") is None and variables == ["scones_project"]


def test_a_name_stored_in_another_case_is_still_asked_for(monkeypatch, variables):
    """MySQL compares keys without case: Variable.get("scones_bucket") finds a stored SCONES_BUCKET."""
    backends(monkeypatch, EnvironmentVariablesBackend, ExecutionAPISecretsBackend)
    monkeypatch.setattr(Variable, "keys", staticmethod(lambda prefix=None: ["SCONES_BUCKET"]))
    lookup = task_variables()

    assert lookup("scones_bucket") == "from-variable" and variables == ["scones_bucket"]


def test_names_that_cannot_be_listed_mean_asking_for_each_setting(monkeypatch, variables, caplog):
    backends(monkeypatch, EnvironmentVariablesBackend, ExecutionAPISecretsBackend)

    def no_keys_route(prefix=None):
        raise RuntimeError("404: an API server older than the 2026-06-30 API")

    monkeypatch.setattr(Variable, "keys", staticmethod(no_keys_route))
    with caplog.at_level("INFO", logger="scones.airflow_glue"):
        lookup = task_variables()

    assert lookup("scones_project") is None and variables == ["scones_project"]
    assert "Variables scones_* not listed (404: an API server older" in caplog.text
