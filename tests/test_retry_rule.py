"""One retry rule: a NonRetryableError fails the task at once, anything else gets the retries."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
from airflow.sdk.definitions.retry_policy import RetryAction
from botocore.exceptions import ClientError

import scones
from scones.airflow_glue import RETRY_POLICY, default_args
from scones.errors import DestinationUnavailable, NonRetryableError, OutOfRange, SconesError
from scones.localrun.airflow_home import DAGS_FOLDER
from scones.settings import load_settings

#: Importing these defines every error class of the product (the emulator's are its own).
ERROR_MODULES = ("scones.errors", "scones.workflow.errors", "scones.monitoring.errors", "scones.backlog.classify")


def _all_subclasses(cls: type) -> set[type]:
    found = set(cls.__subclasses__())
    return found.union(*(_all_subclasses(c) for c in found)) if found else found


@pytest.fixture(scope="module")
def product_errors() -> set[type]:
    for name in ERROR_MODULES:
        importlib.import_module(name)
    return {
        c
        for c in _all_subclasses(SconesError)
        if c.__module__.startswith("scones.") and ".emulator." not in c.__module__
    }


def decision(error: BaseException) -> RetryAction:
    return RETRY_POLICY.evaluate(error, try_number=1, max_tries=3).action


def test_every_non_retryable_error_fails_at_once(product_errors):
    non_retryable = {c for c in product_errors if issubclass(c, NonRetryableError)}
    names = {c.__name__ for c in non_retryable}
    # The ones the issue named, and the workflow's, are in the tree.
    assert {
        "MissingMetric",
        "DeploymentRolledBack",
        "RollbackFailed",
        "SmokeTestFailed",
        "TrainingJobFailed",
        "ConfigurationError",
        "DefinitionError",
        "PackagingError",
        "EndpointNotServing",
        "ViolationsFound",
    } <= names
    for cls in non_retryable:
        assert decision(cls.__new__(cls)) == RetryAction.FAIL, cls


@pytest.mark.parametrize(
    "error",
    [
        DestinationUnavailable("S3 kept failing"),
        RuntimeError("anything else"),
        ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "InvokeEndpoint"),
    ],
    ids=["DestinationUnavailable", "RuntimeError", "throttling"],
)
def test_everything_else_gets_the_retries(error):
    assert decision(error) != RetryAction.FAIL


def test_transient_workflow_errors_are_retried():
    from scones.workflow.errors import EndpointNotReady, EndpointNotServing, ExecutionTimeout

    assert decision(EndpointNotReady("Updating")) != RetryAction.FAIL
    assert decision(ExecutionTimeout("still running")) != RetryAction.FAIL
    assert decision(EndpointNotServing("gone")) == RetryAction.FAIL


def test_the_retry_delay_is_a_setting():
    from datetime import timedelta

    assert default_args(load_settings(environ={}))["retry_delay"] == timedelta(seconds=30)
    assert default_args(load_settings(environ={"SCONES_RETRY_DELAY_SECONDS": "5"}))["retry_delay"] == timedelta(
        seconds=5
    )
    with pytest.raises(OutOfRange, match="retry_delay_seconds"):
        load_settings(environ={"SCONES_RETRY_DELAY_SECONDS": "-1"})


def test_the_dags_say_do_not_retry_only_one_way():
    assert default_args(load_settings(environ={}))["retry_policy"] is RETRY_POLICY
    for dag_file in Path(DAGS_FOLDER).glob("*.py"):
        source = dag_file.read_text()
        assert "AirflowFailException" not in source, f"{dag_file.name}: raise a NonRetryableError instead"
        assert "RetryRule" not in source and not re.search(r"retry_policy\s*[:=]", source), (
            f"{dag_file.name}: one retry rule"
        )


def test_no_error_class_is_defined_twice(product_errors):
    """A name such as SmokeTestFailed means one class in the product (two once did, one not retried)."""
    root = Path(scones.__file__).parent
    sources = [
        p.read_text() for p in root.rglob("*.py") if not {"emulator", "localrun"} & set(p.relative_to(root).parts)
    ]
    for cls in product_errors:
        definitions = sum(len(re.findall(rf"^class {cls.__name__}\(", text, re.MULTILINE)) for text in sources)
        assert definitions == 1, f"{cls.__name__} is defined {definitions} times"
