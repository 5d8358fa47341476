"""Create or update a Lambda function; do nothing when its code and configuration are unchanged.

The provider's ``LambdaCreateFunctionOperator`` creates only (a second run gets
ResourceConflictException), so deployment compares what runs with what we have instead:
the code by ``CodeSha256``, the configuration field by field.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from scones.workflow.packaging import HANDLER, FunctionPackage

log = logging.getLogger(__name__)

#: A role created seconds ago may not be assumable by Lambda yet (IAM is eventually consistent).
ROLE_PROPAGATION_SECONDS = 60


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    role_arn: str
    package: FunctionPackage
    environment: dict[str, str] = field(default_factory=dict)
    runtime: str = "python3.11"
    timeout: int = 30
    memory: int = 256
    description: str = ""

    def configuration(self) -> dict[str, Any]:
        """The configuration in Lambda's own (PascalCase) shape."""
        return {
            "Runtime": self.runtime,
            "Handler": HANDLER,
            "Role": self.role_arn,
            "Timeout": self.timeout,
            "MemorySize": self.memory,
            "Description": self.description,
            "Environment": {"Variables": dict(self.environment)},
        }


def configuration_changes(current: dict[str, Any], desired: dict[str, Any]) -> list[str]:
    """Names of the fields whose deployed value differs from the desired one."""
    current = {**current, "Environment": {"Variables": (current.get("Environment") or {}).get("Variables") or {}}}
    return sorted(key for key, value in desired.items() if current.get(key) != value)


def _create(client: Any, spec: FunctionSpec) -> dict[str, Any]:
    deadline = time.monotonic() + ROLE_PROPAGATION_SECONDS
    delay = 2.0
    while True:
        try:
            return client.create_function(
                FunctionName=spec.name, Code={"ZipFile": spec.package.zip_bytes}, Publish=False, **spec.configuration()
            )
        except client.exceptions.InvalidParameterValueException as exc:
            if "cannot be assumed" not in str(exc) or time.monotonic() > deadline:
                raise
            log.info("role %s is not assumable yet (IAM propagation); retrying in %.0f s", spec.role_arn, delay)
            time.sleep(delay)
            delay = min(delay * 2, 10)


def wait_until_updatable(client: Any, current: dict[str, Any]) -> None:
    """Wait out a creation or an update still in progress (an earlier run stopped mid-way, or
    someone else's): Lambda refuses an update meanwhile with ResourceConflictException."""
    name = current["FunctionName"]
    if current.get("State") == "Pending":
        log.info("function %s is still being created; waiting for it to be Active", name)
        client.get_waiter("function_active_v2").wait(FunctionName=name)
    if current.get("LastUpdateStatus") == "InProgress":
        log.info("function %s has an update in progress; waiting for it to finish", name)
        client.get_waiter("function_updated_v2").wait(FunctionName=name)


def ensure_function(client: Any, spec: FunctionSpec) -> dict[str, Any]:
    """Create, update or leave the function; return its ARN and what was done.

    :return: ``{"name", "arn", "action": "created" | "updated" | "unchanged", "changed": [...],
        "code_sha256"}``; ``changed`` lists ``Code`` and the configuration fields that were updated.
    """
    try:
        current = client.get_function(FunctionName=spec.name)["Configuration"]
    except client.exceptions.ResourceNotFoundException:
        created = _create(client, spec)
        client.get_waiter("function_active_v2").wait(FunctionName=spec.name)
        return {
            "name": spec.name,
            "arn": created["FunctionArn"],
            "action": "created",
            "changed": ["Code", *sorted(spec.configuration())],
            "code_sha256": created["CodeSha256"],
        }

    changed: list[str] = []
    fields = configuration_changes(current, spec.configuration())
    if fields or current.get("CodeSha256") != spec.package.code_sha256:
        wait_until_updatable(client, current)
    if current.get("CodeSha256") != spec.package.code_sha256:
        client.update_function_code(FunctionName=spec.name, ZipFile=spec.package.zip_bytes, Publish=False)
        # One update at a time: Lambda refuses a second while the first is in progress.
        client.get_waiter("function_updated_v2").wait(FunctionName=spec.name)
        changed.append("Code")
    if fields:
        client.update_function_configuration(FunctionName=spec.name, **spec.configuration())
        client.get_waiter("function_updated_v2").wait(FunctionName=spec.name)
        changed += fields
    return {
        "name": spec.name,
        "arn": current["FunctionArn"],
        "action": "updated" if changed else "unchanged",
        "changed": changed,
        "code_sha256": spec.package.code_sha256,
    }
