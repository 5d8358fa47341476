"""The IAM policy the Airflow connection's credentials need on real AWS, rendered for a project.

``airflow_tasks.json`` allows what the four DAGs' tasks call, and the provider's operators
call for them (the training log, waiters), on the project's own resources only: the bucket's
prefixes, SageMaker names starting ``<project>-train-``, the endpoint, the roles, functions,
state machines and topics the project names. The roles the project creates for SageMaker, the
Lambda functions and Step Functions have policies of their own (``scones.deployment.sagemaker_role``,
``scones/workflow/policies/``).

``scones aws-policy --account-id 123456789012`` prints it for the current settings.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from scones.layout import MONITORING_PREFIX, DatasetLayout, ModelsLayout, capture_prefix
from scones.settings import Settings, load_settings
from scones.workflow.components import FUNCTIONS, STATE_MACHINES
from scones.workflow.templates import load_json, render

TEMPLATE = Path(__file__).resolve().parent / "airflow_tasks.json"


def airflow_tasks_policy(settings: Settings, account_id: str, partition: str = "aws") -> dict[str, Any]:
    """The policy document, every placeholder filled; every name from ``settings.names``, as the tasks'."""
    names = settings.names
    prefix = f"arn:{partition}"
    iam, region = f"{prefix}:iam::{account_id}:role", settings.region
    sagemaker_role = settings.sagemaker_role_arn or f"{iam}/{names.sagemaker_role}"
    function_roles = [f"{iam}/{names.function_role(folder)}" for folder in FUNCTIONS]
    state_machine_role = f"{iam}/{names.state_machine_role}"
    project_roles = function_roles + [state_machine_role] + ([] if settings.sagemaker_role_arn else [sagemaker_role])
    machines = [
        f"{prefix}:states:{region}:{account_id}:stateMachine:{names.state_machine(stem)}" for stem in STATE_MACHINES
    ]
    values = {
        "Partition": partition,
        "Region": region,
        "AccountId": account_id,
        "Bucket": settings.bucket,
        # Every key and prefix comes from scones.layout, the S3 contract the tasks use.
        "DatasetPrefix": DatasetLayout.of(settings).prefix,
        "ModelsPrefix": ModelsLayout.of(settings).prefix,
        "DatasetVersionsPrefix": DatasetLayout.of(settings).versions_prefix,
        "CapturePrefix": capture_prefix(settings),
        "MonitoringPrefix": MONITORING_PREFIX,
        # SageMaker writes names lower case in its ARNs.
        "TrainingJobPrefix": names.training_job_prefix.lower(),
        "BacklogJobPrefix": names.backlog_job_prefix.lower(),
        "EndpointName": names.endpoint.lower(),
        "ProjectRoleArns": project_roles,
        "SageMakerRoleArn": sagemaker_role,
        "FunctionRoleArns": function_roles,
        "StateMachineRoleArn": state_machine_role,
        "FunctionArns": [
            f"{prefix}:lambda:{region}:{account_id}:function:{names.function(folder)}" for folder in FUNCTIONS
        ],
        "StateMachineArns": machines,
        "ExecutionArns": [arn.replace(":stateMachine:", ":execution:") + ":*" for arn in machines],
        "WorkflowAlertsTopic": names.workflow_alerts_topic,
        "MonitorAlertsTopic": names.monitor_alerts_topic,
    }
    return render(load_json(TEMPLATE), values, what="the Airflow tasks' policy")


def aws_policy(args: argparse.Namespace) -> int:
    settings = load_settings({"region": args.region} if args.region else None)
    print(json.dumps(airflow_tasks_policy(settings, args.account_id, args.partition), indent=2))
    return 0


def _account_id(text: str) -> str:
    if not (text.isdigit() and len(text) == 12):
        raise argparse.ArgumentTypeError(f"an AWS account id is 12 digits, got {text!r}")
    return text


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "aws-policy", help="print the IAM policy the Airflow connection needs on real AWS (for these settings)"
    )
    p.add_argument("--account-id", type=_account_id, required=True, help="the AWS account, 12 digits")
    p.add_argument("--partition", default="aws", choices=["aws", "aws-cn", "aws-us-gov"])
    p.add_argument("--region", help="default: the settings' (SCONES_REGION)")
    p.set_defaults(func=aws_policy)
