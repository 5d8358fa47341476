"""Put the endpoint back on the recorded deployment when the new model fails its smoke test.

SageMaker rolls back an update only when the new instances fail to start. A model that starts
and then answers wrongly (or crashes on every request) is InService, and the Step Functions
workflow and the courier app would use it. The nightly DAG's smoke test catches that; this
turns the endpoint back to the config of ``current.json`` (the deployment the previous
successful run recorded, which cleanup never deletes while it is recorded), the same
blue/green way: the failed model serves until the restored one is InService.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from scones.deployment import CHANGING, describe_endpoint, not_found
from scones.deployment.record import Deployment
from scones.deployment.verify import verify_serving
from scones.errors import DeploymentRolledBack, RollbackFailed


@dataclass(frozen=True)
class Rollback:
    rolled_back: bool
    reason: str


def _wait_in_service(sagemaker: Any, name: str, delay: int, max_attempts: int) -> None:
    sagemaker.get_waiter("endpoint_in_service").wait(
        EndpointName=name, WaiterConfig={"Delay": delay, "MaxAttempts": max_attempts}
    )


def roll_back(
    sagemaker: Any,
    endpoint_name: str,
    failed_config: str,
    previous: Deployment | None,
    delay: int = 30,
    max_attempts: int = 120,
) -> Rollback:
    """Serve ``previous``'s endpoint config again if the endpoint serves ``failed_config``.

    Nothing is changed when the endpoint does not serve ``failed_config`` (gone, or changed by
    someone else since) or when no earlier deployment of this endpoint is recorded (the first
    one: there is nothing to go back to; the reason says what to do).

    :raises RollbackFailed: the recorded config no longer exists, or the update to it failed.
    """
    endpoint = describe_endpoint(sagemaker, endpoint_name)
    if endpoint and endpoint["EndpointStatus"] in CHANGING:  # a retry finds an earlier try's update
        _wait_in_service(sagemaker, endpoint_name, delay, max_attempts)
        endpoint = describe_endpoint(sagemaker, endpoint_name)
    if endpoint is None:
        return Rollback(False, f"endpoint {endpoint_name} does not exist: nothing to roll back")
    serving = endpoint["EndpointConfigName"]
    if previous is not None and serving == previous.endpoint_config and endpoint["EndpointStatus"] == "InService":
        return Rollback(
            True, f"endpoint {endpoint_name} serves the recorded {serving} again (an earlier try restored it)"
        )
    if serving != failed_config:
        return Rollback(False, f"endpoint {endpoint_name} serves {serving}, not {failed_config}: left as it is")
    if previous is None or previous.endpoint_name != endpoint_name:
        return Rollback(
            False,
            f"no earlier deployment of {endpoint_name} is recorded, so {failed_config} stays: "
            "delete the endpoint, or deploy a model that passes the smoke test",
        )
    try:
        sagemaker.describe_endpoint_config(EndpointConfigName=previous.endpoint_config)
    except ClientError as exc:
        if not_found(exc):
            raise RollbackFailed(
                f"the recorded endpoint config {previous.endpoint_config} no longer exists: "
                f"{endpoint_name} still serves {failed_config}"
            ) from exc
        raise
    sagemaker.update_endpoint(EndpointName=endpoint_name, EndpointConfigName=previous.endpoint_config)
    try:
        _wait_in_service(sagemaker, endpoint_name, delay, max_attempts)
    except Exception as exc:  # the waiter's own errors; the endpoint's state below says what happened
        raise RollbackFailed(
            f"rolling {endpoint_name} back to {previous.endpoint_config} did not finish: {exc}"
        ) from exc
    try:
        verify_serving(sagemaker.describe_endpoint(EndpointName=endpoint_name), previous.endpoint_config)
    except DeploymentRolledBack as exc:
        raise RollbackFailed(f"rolling {endpoint_name} back to {previous.endpoint_config} failed: {exc}") from exc
    return Rollback(
        True,
        f"endpoint {endpoint_name} serves the recorded {previous.endpoint_config} "
        f"({previous.model_name}, deployed {previous.deployed_at}) again",
    )
