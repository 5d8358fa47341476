"""Every AWS resource name from one project id (scones.names), and the policy allowing exactly those."""

from __future__ import annotations

import json

from scones.names import MAX_NAME, ResourceNames
from scones.policies import airflow_tasks_policy
from scones.settings import load_settings
from scones.workflow.components import FUNCTIONS, STATE_MACHINES


def test_every_name_starts_with_the_project():
    settings = load_settings({"project": "muffins"}, environ={})
    names = settings.names
    every = [
        names.endpoint,
        names.training_job("20261123T020000"),
        names.sagemaker_role,
        names.state_machine_role,
        names.workflow_alerts_topic,
        names.monitor_alerts_topic,
        names.backlog_job_prefix,
        *(names.function(f) for f in FUNCTIONS),
        *(names.function_role(f) for f in FUNCTIONS),
        *(names.state_machine(s) for s in STATE_MACHINES),
    ]
    assert all(name.startswith("muffins-") for name in every), every
    assert settings.endpoint_name == "muffins-endpoint"
    assert (names.monitor_alerts_topic, names.workflow_alerts_topic) == (
        "muffins-monitor-alerts",
        "muffins-workflow-alerts",
    )


def test_the_default_project_keeps_its_names():
    names = load_settings(environ={}).names
    assert (names.endpoint, names.monitor_alerts_topic, names.training_job_prefix) == (
        "scones-endpoint",
        "scones-monitor-alerts",
        "scones-train-",
    )


def test_alert_topics_can_be_named_explicitly():
    settings = load_settings(environ={"SCONES_ALERTS_TOPIC": "ops", "SCONES_WORKFLOW_ALERTS_TOPIC": "ops-workflow"})
    assert (settings.names.monitor_alerts_topic, settings.names.workflow_alerts_topic) == ("ops", "ops-workflow")


def test_sagemaker_names_fit_its_limit_and_follow_the_job():
    names = ResourceNames("a-project-with-a-rather-long-name")
    job = names.training_job("2026-11-23T02:00:00+0000")
    assert len(job) <= MAX_NAME and job.startswith(names.training_job_prefix) and ":" not in job
    assert names.model(job) == job and len(names.endpoint_config(job)) <= MAX_NAME


def _resources_allowing(policy: dict, action: str) -> set[str]:
    """Every Resource of the statements that allow ``action``."""
    found: set[str] = set()
    for statement in policy["Statement"]:
        actions = [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
        if statement["Effect"] == "Allow" and action in actions:
            resources = statement["Resource"]
            found.update([resources] if isinstance(resources, str) else resources)
    return found


def test_the_policy_allows_the_names_the_tasks_use():
    settings = load_settings({"project": "muffins", "bucket": "muffin-data"}, environ={})
    document = airflow_tasks_policy(settings, "123456789012")
    policy = json.dumps(document)
    names = settings.names
    arn = "arn:aws:{}:us-east-1:123456789012:{}".format
    role = "arn:aws:iam::123456789012:role/{}".format
    wanted = {
        "sagemaker:UpdateEndpoint": [arn("sagemaker", f"endpoint/{names.endpoint}")],
        "iam:PassRole": [
            role(names.sagemaker_role),
            role(names.state_machine_role),
            *(role(names.function_role(f)) for f in FUNCTIONS),
        ],
        "lambda:UpdateFunctionCode": [arn("lambda", f"function:{names.function(f)}") for f in FUNCTIONS],
        "states:UpdateStateMachine": [arn("states", f"stateMachine:{names.state_machine(s)}") for s in STATE_MACHINES],
        "sns:Publish": [arn("sns", names.workflow_alerts_topic), arn("sns", names.monitor_alerts_topic)],
    }
    for action, resources in wanted.items():
        allowed = _resources_allowing(document, action)
        for resource in resources:
            assert resource in allowed, f"{action} on {resource}: the policy allows only {sorted(allowed)}"
    assert (
        f"training-job/{names.training_job_prefix}*" in policy
        and f"transform-job/{names.backlog_job_prefix}*" in policy
    )
