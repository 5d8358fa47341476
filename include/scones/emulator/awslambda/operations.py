"""What the emulator does for each Lambda operation moto 5.2.5 serves (the emulator's rule, as a table).

``COMPUTED`` operations run the function's code or change what runs; ``REFUSED`` ones are
answered at once with a 400 naming why (``scones.emulator.unsupported.refuse``), because moto
would record a behaviour the executor does not have; the rest are records. Operations moto
does not serve are refused by ``scones.emulator.unsupported``.
``tests/emulator_lambda/test_operations.py`` walks moto's Lambda responses against this table.
"""

from __future__ import annotations

COMPUTED: dict[str, str] = {
    "Invoke": "runs the handler of a python .zip function in a warm worker process (6 MB request limit)",
    "InvokeAsync": "runs it in the background, as an Event invocation",
    "CreateEventSourceMapping": "SQS, DynamoDB Streams and Kinesis records invoke the function, as moto delivers them",
    "UpdateFunctionCode": "new code: new workers",
    "UpdateFunctionConfiguration": "new timeout, memory, environment or handler: new workers",
    "DeleteFunction": "stops the function's workers",
    "PutFunctionConcurrency": "reserved concurrency is enforced: invocations beyond it are throttled (429)",
    "DeleteFunctionConcurrency": "lifts the reservation",
}

REFUSED: dict[str, str] = {
    "PutFunctionEventInvokeConfig": "the local emulator neither retries asynchronous invocations nor delivers "
    "their destinations, so this configuration would not apply; invoke synchronously, or handle failures in the handler",
    "UpdateFunctionEventInvokeConfig": "the local emulator neither retries asynchronous invocations nor delivers "
    "their destinations, so this configuration would not apply",
}

BOOKKEEPING: frozenset[str] = frozenset(
    {
        "CreateFunction",
        "GetFunction",
        "GetFunctionConfiguration",
        "ListFunctions",
        "PublishVersion",
        "ListVersionsByFunction",
        "CreateAlias",
        "GetAlias",
        "UpdateAlias",
        "DeleteAlias",
        "ListAliases",
        "AddPermission",
        "RemovePermission",
        "GetPolicy",
        "TagResource",
        "UntagResource",
        "ListTags",
        "GetFunctionConcurrency",
        "GetFunctionCodeSigningConfig",
        "GetEventSourceMapping",
        "UpdateEventSourceMapping",
        "DeleteEventSourceMapping",
        "ListEventSourceMappings",
        # Layers are stored; a function that uses one is refused at Invoke (the executor does not mount them).
        "PublishLayerVersion",
        "GetLayerVersion",
        "DeleteLayerVersion",
        "ListLayers",
        "ListLayerVersions",
        "AddLayerVersionPermission",
        "RemoveLayerVersionPermission",
        "GetLayerVersionPolicy",
        "GetFunctionEventInvokeConfig",
        "DeleteFunctionEventInvokeConfig",
        "ListFunctionEventInvokeConfigs",
        # The URL is recorded; the emulator serves no function URL (a request to it does not resolve).
        "CreateFunctionUrlConfig",
        "GetFunctionUrlConfig",
        "UpdateFunctionUrlConfig",
        "DeleteFunctionUrlConfig",
    }
)


def refusal(operation: str) -> str:
    return f"The local AWS emulator refuses lambda:{operation}: {REFUSED[operation]}."
