"""Create or update a Step Functions state machine (no-op when definition and role are unchanged)."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from botocore.exceptions import ClientError

log = logging.getLogger(__name__)

ROLE_PROPAGATION_SECONDS = 60


def state_machine_arn(context: dict[str, str], name: str) -> str:
    return f"arn:{context['Partition']}:states:{context['Region']}:{context['AccountId']}:stateMachine:{name}"


def _create(sfn: Any, name: str, definition: str, role_arn: str) -> str:
    deadline = time.monotonic() + ROLE_PROPAGATION_SECONDS
    delay = 2.0
    while True:
        try:
            return sfn.create_state_machine(name=name, definition=definition, roleArn=role_arn, type="STANDARD")[
                "stateMachineArn"
            ]
        except ClientError as exc:
            # A new role is not assumable by states.amazonaws.com for a few seconds.
            if exc.response["Error"]["Code"] != "AccessDeniedException" or time.monotonic() > deadline:
                raise
            log.info("role %s is not assumable yet (IAM propagation); retrying in %.0f s", role_arn, delay)
            time.sleep(delay)
            delay = min(delay * 2, 10)


def ensure_state_machine(sfn: Any, arn: str, definition: str, role_arn: str) -> dict[str, Any]:
    """Create the state machine at ``arn`` or update it if its definition or role differ.

    :return: ``{"name", "arn", "action": "created" | "updated" | "unchanged"}``
    """
    name = arn.rsplit(":", 1)[1]
    try:
        current = sfn.describe_state_machine(stateMachineArn=arn)
    except sfn.exceptions.StateMachineDoesNotExist:
        return {"name": name, "arn": _create(sfn, name, definition, role_arn), "action": "created"}
    if json.loads(current["definition"]) == json.loads(definition) and current["roleArn"] == role_arn:
        return {"name": name, "arn": arn, "action": "unchanged"}
    sfn.update_state_machine(stateMachineArn=arn, definition=definition, roleArn=role_arn)
    return {"name": name, "arn": arn, "action": "updated"}
