"""``LocalStepFunctionsBackend``: moto's interpreter backend, answering as Step Functions does.

moto runs definitions with ``StepFunctionsParserBackend`` (moto/stepfunctions/parser/models.py)
once ``execute_state_machine`` is on. Four of its answers differ from AWS's in ways our
clients see, so three methods change:

- ``start_execution`` without a name: AWS names the execution with a UUID; moto's interpreter
  names it ``"None"``, so the second unnamed execution fails with ExecutionAlreadyExists
  (the provider's ``StepFunctionStartExecutionOperator`` passes no name by default).
- ``start_execution`` with an input over 256 KiB: AWS refuses it (ValidationException); moto
  started it. (Inside an execution the interpreter already fails a state whose data exceeds
  256 KiB with ``States.DataLimitExceeded``.)
- ``send_task_success`` with an output over 256 KiB: AWS refuses it (ValidationException); moto
  handed it to the waiting state. The limit is ``quotas.within_quota``'s, which the
  interpreter uses too (moto's own test failed data of exactly 256 KiB).
- ``describe_execution`` of a SUCCEEDED execution: AWS's ``output`` is the compact JSON of
  the final state (as the ``ExecutionSucceeded`` history event has it); moto's response
  re-dumps it with spaces, and for a moment after the status turns SUCCEEDED has no output.
"""

from __future__ import annotations

from typing import Any

from moto.moto_api._internal import mock_random
from moto.stepfunctions.exceptions import ValidationException
from moto.stepfunctions.parser.api import ExecutionStatus
from moto.stepfunctions.parser.asl.utils.encoding import to_json_str
from moto.stepfunctions.parser.backend.execution import Execution
from moto.stepfunctions.parser.models import StepFunctionsParserBackend
from moto.stepfunctions.parser.utils import TMP_THREADS

from scones.emulator.stepfunctions.quotas import MAX_PAYLOAD_BYTES, payload_size


class LocalStepFunctionsBackend(StepFunctionsParserBackend):
    """moto's Step Functions interpreter backend with AWS's naming and output."""

    def start_execution(
        self,
        state_machine_arn: str,
        name: str | None = None,
        execution_input: str | None = None,
        trace_header: str | None = None,
    ) -> Execution:
        """Start an execution of the real definition; an unnamed one gets a UUID, as on AWS.

        The interpreter runs it in a thread; its Task states call Lambda and SNS back through
        this emulator (``localhost:$MOTO_PORT``), so a Lambda task runs the function's code.

        .. sourcecode:: python

            sfn = boto3.client("stepfunctions", endpoint_url="http://127.0.0.1:5000", region_name="us-east-1")
            arn = sfn.start_execution(stateMachineArn=machine_arn, input='{"x": 1}')["executionArn"]
            arn.rsplit(":", 1)[-1]  # a UUID, e.g. "0b5e8f0e-..."
            sfn.describe_execution(executionArn=arn)["status"]  # "RUNNING", then "SUCCEEDED"
        """
        _check_size("input", execution_input or "")  # the interpreter would start it and fail it later
        if name:
            self._validate_name(name)  # moto's base backend validates; its interpreter does not
        # The interpreter keeps every thread it started in a module list: drop finished ones,
        # or a long-running emulator holds one object per state of every past execution.
        TMP_THREADS[:] = [thread for thread in TMP_THREADS if thread.is_alive()]
        return super().start_execution(
            state_machine_arn, name or str(mock_random.uuid4()), execution_input, trace_header
        )

    def send_task_success(self, task_token: str, outcome: str) -> Any:
        """moto's, after AWS's check of the output's size (moto passed any size to the waiting state)."""
        _check_size("output", outcome or "")
        return super().send_task_success(task_token, outcome)

    def describe_execution(self, execution_arn: str) -> Execution:
        """The execution; once SUCCEEDED, its ``output`` is the final state as compact JSON.

        .. sourcecode:: python

            sfn.describe_execution(executionArn=arn)["output"]  # '{"value":42}', never '{"value": 42}'
        """
        execution = super().describe_execution(execution_arn)
        if execution.exec_status == ExecutionStatus.SUCCEEDED and not isinstance(execution.output, str):
            # Read the interpreter's final state rather than execution.output: the status turns
            # SUCCEEDED a moment before moto copies the output over.
            final_state = execution.exec_worker.env.states.get_input()  # type: ignore[union-attr]
            execution.output = to_json_str(final_state, separators=(",", ":"))
        return execution


def _check_size(member: str, value: str) -> None:
    """AWS's ValidationException for a member over the 256 KiB quota (quotas.within_quota's limit)."""
    size = payload_size(value)
    if size > MAX_PAYLOAD_BYTES:
        raise ValidationException(
            f"1 validation error detected: Value at '{member}' failed to satisfy constraint: Member must have "
            f"length less than or equal to {MAX_PAYLOAD_BYTES} (got {size} bytes)"
        )
