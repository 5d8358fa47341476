"""What the emulator does for each Step Functions operation moto 5.2.5 serves (the emulator's rule, as a table).

``COMPUTED`` operations run or steer executions of the real definition (moto's interpreter);
``REFUSED`` ones are answered at once with a 400 naming why (``scones.emulator.unsupported.refuse``);
the rest are records. Operations moto does not serve (StartSyncExecution, TestState,
GetActivityTask...) are refused by ``scones.emulator.unsupported``.
``tests/emulator_stepfunctions/test_operations.py`` walks moto's responses against this table.
"""

from __future__ import annotations

COMPUTED: dict[str, str] = {
    "StartExecution": "runs the definition: Lambda tasks run the function's code, SNS/SQS/S3... tasks call the emulator",
    "StopExecution": "aborts the running execution",
    "SendTaskSuccess": "resumes a .waitForTaskToken task with its output",
    "SendTaskFailure": "fails a .waitForTaskToken task with its error",
    "SendTaskHeartbeat": "keeps a .waitForTaskToken task within its HeartbeatSeconds",
}

REFUSED: dict[str, str] = {
    "CreateActivity": "no worker can poll an activity here (moto serves no GetActivityTask), so an execution "
    "reaching an activity task would wait until it times out; use a Lambda or .waitForTaskToken task",
}

BOOKKEEPING: frozenset[str] = frozenset(
    {
        "CreateStateMachine",
        "UpdateStateMachine",
        "DeleteStateMachine",
        "DescribeStateMachine",
        "ListStateMachines",
        "DescribeStateMachineForExecution",
        "CreateStateMachineAlias",
        "UpdateStateMachineAlias",
        "DeleteStateMachineAlias",
        "DescribeStateMachineAlias",
        "ListStateMachineAliases",
        "DescribeExecution",
        "ListExecutions",
        "GetExecutionHistory",
        "DescribeMapRun",
        "ListMapRuns",
        "UpdateMapRun",
        "DeleteActivity",
        "DescribeActivity",
        "ListActivities",
        "TagResource",
        "UntagResource",
        "ListTagsForResource",
    }
)


def refusal(operation: str) -> str:
    return f"The local AWS emulator refuses states:{operation}: {REFUSED[operation]}."
