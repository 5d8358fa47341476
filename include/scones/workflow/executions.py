"""Start executions and wait for them, reading outcomes from DescribeExecution.

The provider's ``StepFunctionExecutionSensor`` raises on a failed execution, which is right for
a run that must succeed and wrong for one that must fail; these helpers only report.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from scones.workflow.errors import ExecutionTimeout

TERMINAL_STATUSES = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


@dataclass(frozen=True)
class Outcome:
    """How an execution ended: its status, output (parsed) or error and cause."""

    arn: str
    status: str
    output: Any = None
    error: str | None = None
    cause: str | None = None
    seconds: float | None = None

    @classmethod
    def from_description(cls, description: dict[str, Any]) -> Outcome:
        output = description.get("output")
        started, stopped = description.get("startDate"), description.get("stopDate")
        return cls(
            arn=description["executionArn"],
            status=description["status"],
            output=json.loads(output) if output else None,
            error=description.get("error"),
            cause=description.get("cause"),
            seconds=(stopped - started).total_seconds() if started and stopped else None,
        )

    @property
    def done(self) -> bool:
        return self.status in TERMINAL_STATUSES

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def start_execution(sfn: Any, state_machine_arn: str, payload: Any, name: str | None = None) -> str:
    """Start one execution; named with a UUID unless a name is given, as AWS does.

    Always named: moto's interpreter names every unnamed execution "None", so the second clashes.
    """
    name = name or uuid.uuid4().hex
    return sfn.start_execution(stateMachineArn=state_machine_arn, name=name, input=json.dumps(payload))["executionArn"]


def describe(sfn: Any, arn: str) -> Outcome:
    return Outcome.from_description(sfn.describe_execution(executionArn=arn))


def wait_for_executions(sfn: Any, arns: Iterable[str], timeout: float = 600, poll: float = 1.0) -> dict[str, Outcome]:
    """Every execution's outcome once all have ended.

    :raises ExecutionTimeout: some were still running after ``timeout`` seconds (named).
    """
    pending = list(dict.fromkeys(arns))
    outcomes: dict[str, Outcome] = {}
    deadline = time.monotonic() + timeout
    while pending:
        still: list[str] = []
        for arn in pending:
            outcome = describe(sfn, arn)
            if outcome.done:
                outcomes[arn] = outcome
            else:
                still.append(arn)
        pending = still
        if pending:
            if time.monotonic() > deadline:
                raise ExecutionTimeout(
                    f"{len(pending)} execution(s) still running after {timeout:.0f} s, e.g. {pending[0]}: "
                    "check the state machine's execution history"
                )
            time.sleep(poll)
    return outcomes


def run_and_wait(sfn: Any, state_machine_arn: str, payload: Any, timeout: float = 600, poll: float = 0.2) -> Outcome:
    """Start one execution and return its outcome."""
    arn = start_execution(sfn, state_machine_arn, payload)
    return wait_for_executions(sfn, [arn], timeout=timeout, poll=poll)[arn]
