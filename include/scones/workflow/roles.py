"""IAM roles of the workflow, with least-privilege inline policies kept as files in ``policies/``.

One role per Lambda function (``policies/<folder>.json``: serialize reads the images' prefix,
classify invokes the one endpoint, filter only writes its logs) and one for the state machines
(``policies/state_machine.json``: invoke the three functions, publish to the alerts topic).
Placeholders (``${Bucket}``, ``${AccountId}``...) are rendered with the real values; a missing
one is an error, never a wildcard.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from scones.workflow.templates import load_json, render

POLICIES_DIR = Path(__file__).resolve().parent / "policies"
LAMBDA_TRUST = "lambda-trust"
STATES_TRUST = "states-trust"
STATE_MACHINE_POLICY = "state_machine"


def policy_document(name: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """``policies/<name>.json`` rendered with ``values``."""
    return render(load_json(POLICIES_DIR / f"{name}.json"), values, what=f"policy {name}")


def _as_dict(document: Any) -> Any:
    # boto3 returns policy documents decoded; some endpoints return them URL-encoded JSON text.
    return json.loads(unquote(document)) if isinstance(document, str) else document


def ensure_role(iam: Any, name: str, trust: dict[str, Any], policy: dict[str, Any], description: str) -> dict[str, Any]:
    """Create the role or bring its trust and inline policy up to date.

    :return: ``{"name", "arn", "action": "created" | "updated" | "unchanged"}``
    """
    policy_name = f"{name}-policy"
    try:
        role = iam.get_role(RoleName=name)["Role"]
    except iam.exceptions.NoSuchEntityException:
        arn = iam.create_role(
            RoleName=name,
            AssumeRolePolicyDocument=json.dumps(trust),
            Description=description,
            Tags=[{"Key": "project", "Value": name.split("-")[0]}],
        )["Role"]["Arn"]
        iam.put_role_policy(RoleName=name, PolicyName=policy_name, PolicyDocument=json.dumps(policy))
        return {"name": name, "arn": arn, "action": "created"}
    action = "unchanged"
    if _as_dict(role.get("AssumeRolePolicyDocument")) != trust:
        iam.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(trust))
        action = "updated"
    try:
        current = _as_dict(iam.get_role_policy(RoleName=name, PolicyName=policy_name)["PolicyDocument"])
    except iam.exceptions.NoSuchEntityException:
        current = None
    if current != policy:
        iam.put_role_policy(RoleName=name, PolicyName=policy_name, PolicyDocument=json.dumps(policy))
        action = "updated"
    return {"name": name, "arn": role["Arn"], "action": action}


def account_context(sts: Any, region: str) -> dict[str, str]:
    """``AccountId``, ``Partition`` and ``Region``, the values every ARN needs."""
    identity = sts.get_caller_identity()
    return {"AccountId": identity["Account"], "Partition": identity["Arn"].split(":")[1], "Region": region}
