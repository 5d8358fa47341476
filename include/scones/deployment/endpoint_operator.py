"""The provider's endpoint operator, safe to retry, and able to replace a failed endpoint.

``SageMakerEndpointOperator`` creates the model and the endpoint config without looking: a
retry after a timed-out wait finds them made by the try before and fails on every try with
"Cannot create already existing model". And an endpoint whose creation failed accepts
nothing but DeleteEndpoint ("DeleteEndpoint is the only operation that can be performed on a
failed endpoint", DescribeEndpoint's reference), so the provider's fallback to UpdateEndpoint
would fail every night after, each after a paid training job. Before the provider's execute,
this subclass:

- leaves out the model and the endpoint config that exist: their names are unique per
  training job, so an existing one is this deployment's, made by an earlier try;
- waits out a creation or update in progress (SageMaker refuses another meanwhile);
- answers at once when the endpoint already serves this config (an earlier try's update
  went through, its wait did not);
- deletes a Failed endpoint and waits until it is gone, so that it is created anew.
"""

from __future__ import annotations

from typing import Any

from airflow.providers.amazon.aws.operators.sagemaker import SageMakerEndpointOperator, serialize
from botocore.exceptions import ClientError

from scones.deployment import CHANGING, describe_endpoint, not_found


class EndpointDeployOperator(SageMakerEndpointOperator):
    """``SageMakerEndpointOperator`` that a retry, or a failed endpoint, does not break."""

    def execute(self, context: Any) -> dict:
        self._leave_out_what_exists()
        endpoint = self._settled_endpoint()
        if endpoint and endpoint["EndpointStatus"] == "Failed":
            self._delete(endpoint)
        elif (
            endpoint
            and endpoint["EndpointStatus"] == "InService"
            and endpoint["EndpointConfigName"] == self._config_name()
        ):
            self.log.info(
                "endpoint %s already serves %s (an earlier try deployed it)",
                endpoint["EndpointName"],
                self._config_name(),
            )
            return {
                "EndpointConfig": serialize(self.hook.describe_endpoint_config(self._config_name())),
                "Endpoint": serialize(endpoint),
            }
        return super().execute(context)

    def _endpoint_name(self) -> str:
        return self.config.get("Endpoint", self.config)["EndpointName"]

    def _config_name(self) -> str:
        return self.config.get("Endpoint", self.config)["EndpointConfigName"]

    def _leave_out_what_exists(self) -> None:
        checks = (
            ("Model", "ModelName", self.hook.describe_model),
            ("EndpointConfig", "EndpointConfigName", self.hook.describe_endpoint_config),
        )
        for key, name_key, describe in checks:
            if key not in self.config:
                continue
            name = self.config[key][name_key]
            try:
                describe(name)
            except ClientError as exc:
                if not_found(exc):
                    continue
                raise
            self.log.info("%s %s exists (an earlier try made it): kept, not created again", key, name)
            del self.config[key]

    def _settled_endpoint(self) -> dict[str, Any] | None:
        """The endpoint once no change is in progress; None if there is none."""
        name = self._endpoint_name()
        endpoint = describe_endpoint(self.hook.conn, name)
        if endpoint and endpoint["EndpointStatus"] in CHANGING:
            self.log.info("endpoint %s is %s; waiting for that to end first", name, endpoint["EndpointStatus"])
            waiter = "endpoint_deleted" if endpoint["EndpointStatus"] == "Deleting" else "endpoint_in_service"
            try:
                self.hook.get_waiter(waiter).wait(
                    EndpointName=name, WaiterConfig={"Delay": self.check_interval, "MaxAttempts": self._max_polls()}
                )
            except Exception as exc:  # the waiter gives up on Failed: that is for the caller to handle
                self.log.info("endpoint %s did not come into service: %s", name, exc)
            endpoint = describe_endpoint(self.hook.conn, name)
        return endpoint

    def _delete(self, endpoint: dict[str, Any]) -> None:
        name = endpoint["EndpointName"]
        self.log.warning(
            "endpoint %s is Failed (%s): SageMaker allows only deleting it; deleting it to create it anew",
            name,
            endpoint.get("FailureReason", "no reason given"),
        )
        self.hook.conn.delete_endpoint(EndpointName=name)
        self.hook.get_waiter("endpoint_deleted").wait(
            EndpointName=name, WaiterConfig={"Delay": self.check_interval, "MaxAttempts": self._max_polls()}
        )

    def _max_polls(self) -> int:
        return max(self.max_ingestion_time // max(self.check_interval, 1), 1)
