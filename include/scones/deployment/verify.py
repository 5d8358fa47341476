"""After deploy: is the endpoint really serving the new config?"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scones.errors import DeploymentRolledBack

__all__ = ["check_still_serving", "verify_serving"]


def verify_serving(endpoint: Mapping[str, Any], expected_config: str) -> Mapping[str, Any]:
    """Check a DescribeEndpoint answer shows ``expected_config`` InService.

    SageMaker rolls a failed update back to the previous config and reports InService, so the
    provider's waiter succeeds; only the config name tells the truth.
    """
    status, serving = endpoint.get("EndpointStatus"), endpoint.get("EndpointConfigName")
    if status == "InService" and serving == expected_config:
        return endpoint
    reason = endpoint.get("FailureReason") or "(no reason given)"
    if status == "InService":
        raise DeploymentRolledBack(
            f"endpoint {endpoint.get('EndpointName')} still serves {serving}, not {expected_config}: "
            f"the update failed and was rolled back ({reason}); the previous model keeps serving"
        )
    raise DeploymentRolledBack(f"endpoint {endpoint.get('EndpointName')} is {status} on {serving}: {reason}")


def check_still_serving(sagemaker: Any, endpoint_name: str, config: str) -> None:
    """Before testing or recording a deployment: the endpoint must serve this run's ``config``
    still. A task cleared or retried after a rollback would otherwise test the restored model
    and record the rejected one as serving."""
    serving = sagemaker.describe_endpoint(EndpointName=endpoint_name)["EndpointConfigName"]
    if serving != config:
        raise DeploymentRolledBack(
            f"endpoint {endpoint_name} serves {serving}, not this run's {config} (rolled back "
            "after a failed smoke test, or changed since): nothing to test or record"
        )
