"""The Airflow tasks' IAM policy: well-formed, scoped to the project, and covering every AWS call
the DAGs' code makes (a call added without its permission fails here, not on a user's night)."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import botocore.session
import pytest
from botocore import xform_name

from scones.localrun.airflow_home import DAGS_FOLDER
from scones.policies import airflow_tasks_policy
from scones.settings import load_settings
from scones.workflow.templates import placeholders

PACKAGE = Path(__file__).resolve().parents[1] / "include" / "scones"
#: Code the Airflow tasks run; the emulator and the local runner never talk to real AWS.
TASK_CODE = [
    p for p in PACKAGE.rglob("*.py") if p.relative_to(PACKAGE).parts[0] not in ("emulator", "localrun")
] + sorted(DAGS_FOLDER.glob("*.py"))
#: botocore service -> IAM action prefix
SERVICES = {
    "s3": "s3",
    "sagemaker": "sagemaker",
    "sagemaker-runtime": "sagemaker",
    "iam": "iam",
    "lambda": "lambda",
    "stepfunctions": "states",
    "sns": "sns",
    "logs": "logs",
}
#: S3 calls whose IAM action is not named after them.
S3_ACTIONS = {
    "list_objects_v2": "s3:ListBucket",
    "list_objects": "s3:ListBucket",
    "head_bucket": "s3:ListBucket",
    "head_object": "s3:GetObject",
    "download_file": "s3:GetObject",
    "download_fileobj": "s3:GetObject",
    "upload_file": "s3:PutObject",
    "upload_fileobj": "s3:PutObject",
    "delete_objects": "s3:DeleteObject",
}
SETTINGS = load_settings(environ={})


@functools.cache
def actions_by_method() -> dict[str, set[str]]:
    """boto3 method name (``describe_endpoint``) -> the IAM actions it may be (one per service)."""
    session = botocore.session.get_session()
    found: dict[str, set[str]] = {}
    for service, prefix in SERVICES.items():
        for operation in session.get_service_model(service).operation_names:
            found.setdefault(xform_name(operation), set()).add(f"{prefix}:{operation}")
    for method, action in S3_ACTIONS.items():
        found[method] = {action}
    return found


def aws_calls(path: Path) -> set[str]:
    """Methods called in ``path`` that are AWS operations (``.get_object(...)``; a paginator or a
    waiter by the operation it calls)."""
    calls = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        method = node.func.attr
        if method in ("get_paginator", "get_waiter") and node.args and isinstance(node.args[0], ast.Constant):
            method = WAITED_OPERATIONS.get(node.args[0].value, node.args[0].value)
        if method in actions_by_method() and method not in NOT_AWS:
            calls.add(method)
    return calls


#: Python methods named like an AWS operation (re.Pattern.search, not SageMaker's Search).
NOT_AWS = frozenset({"search"})
#: The waiters the code uses -> the operation they poll.
WAITED_OPERATIONS = {
    "endpoint_in_service": "describe_endpoint",
    "endpoint_deleted": "describe_endpoint",
    "function_active_v2": "get_function",
    "function_updated_v2": "get_function",
}


def allowed_actions(policy: dict) -> set[str]:
    allowed: set[str] = set()
    for statement in policy["Statement"]:
        action = statement["Action"]
        allowed |= {action} if isinstance(action, str) else set(action)
    return allowed


@pytest.fixture(scope="module")
def policy() -> dict:
    return airflow_tasks_policy(SETTINGS, "123456789012")


def test_the_policy_is_a_valid_iam_document_for_the_project(policy: dict) -> None:
    assert policy["Version"] == "2012-10-17" and placeholders(policy) == set()
    for statement in policy["Statement"]:
        assert set(statement) <= {"Sid", "Effect", "Action", "Resource", "Condition"}, statement  # IAM refuses others
        assert statement["Effect"] == "Allow" and statement["Sid"].isalnum()
        resources = [statement["Resource"]] if isinstance(statement["Resource"], str) else statement["Resource"]
        assert resources and all(r == "*" or r.startswith("arn:aws:") for r in resources), statement
        # SageMaker's training-log group is the account's; the bucket is the project's by name.
        if statement["Sid"] not in ("ListTheBucket", "ReadTheTrainingLogs") and "*" not in resources:
            assert all("scones" in r for r in resources), f"{statement['Sid']} reaches beyond the project"
    wildcard = {a for s in policy["Statement"] if s["Resource"] == "*" for a in s["Action"]}
    assert wildcard == {"sagemaker:ListTrainingJobs", "sagemaker:ListModels", "sagemaker:ListEndpointConfigs"}


def test_every_aws_call_of_the_tasks_is_allowed(policy: dict) -> None:
    allowed, missing = allowed_actions(policy), {}
    for path in TASK_CODE:
        for method in aws_calls(path):
            if not actions_by_method()[method] & allowed:
                missing.setdefault(method, []).append(str(path.relative_to(PACKAGE.parents[1])))
    assert not missing, (
        f"AWS calls the policy does not allow (add them to include/scones/policies/airflow_tasks.json): {missing}"
    )


def test_the_scan_finds_the_calls_it_must(policy: dict) -> None:
    # The scan itself: calls known to be in the code are found, so an empty result above means something.
    found = set().union(*(aws_calls(path) for path in TASK_CODE))
    assert {
        "put_object",
        "list_objects_v2",
        "describe_endpoint",
        "update_endpoint",
        "invoke_endpoint",
        "create_role",
        "put_role_policy",
        "create_function",
        "create_state_machine",
        "publish",
        "get_object",
    } <= found


def test_names_follow_the_settings() -> None:
    settings = load_settings(
        {"project": "Muffins", "bucket": "muffin-data", "sagemaker_role_arn": "arn:aws-cn:iam::123456789012:role/mine"},
        environ={},
    )
    rendered = airflow_tasks_policy(settings, "123456789012", partition="aws-cn")
    by_sid = {s["Sid"]: s for s in rendered["Statement"]}
    assert by_sid["ListTheBucket"]["Resource"] == "arn:aws-cn:s3:::muffin-data"
    assert (
        "arn:aws-cn:sagemaker:us-east-1:123456789012:endpoint/muffins-endpoint"
        in by_sid["ServeOnTheEndpoint"]["Resource"]
    )
    assert by_sid["PassTheSageMakerRole"]["Resource"] == "arn:aws-cn:iam::123456789012:role/mine"
    assert "arn:aws-cn:iam::123456789012:role/mine" not in by_sid["KeepTheProjectsRoles"]["Resource"], (
        "a given role is not changed"
    )
