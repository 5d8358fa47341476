"""Step Functions' 256 KiB quota on state data: one predicate for StartExecution, SendTaskSuccess and the interpreter.

AWS takes up to 262,144 bytes of UTF-8 (``SensitiveData``'s ``max`` in its API model: an input
or a task output of exactly 256 KiB is accepted). moto's interpreter tests ``< 262144``
(``parser/quotas.is_within_size_quota``), so an input StartExecution accepted could fail its
first state with ``States.DataLimitExceeded``; ``install()`` makes the interpreter use
:func:`within_quota` too.
"""

from __future__ import annotations

from typing import Any

from moto.stepfunctions.parser.asl.utils.encoding import to_json_str

#: Bytes of UTF-8 a state's input or output, an execution's input or a task's output may hold.
MAX_PAYLOAD_BYTES = 256 * 1024

#: The interpreter's modules that imported moto's predicate by name (seams.py checks them).
IMPORTERS = (
    "moto.stepfunctions.parser.quotas",
    "moto.stepfunctions.parser.asl.component.state.state",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task_lambda",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service",
)


def payload_size(value: Any) -> int:
    """UTF-8 bytes of ``value`` as Step Functions counts them (JSON text for a non-string)."""
    return len((value if isinstance(value, str) else to_json_str(value)).encode("utf-8"))


def within_quota(value: Any) -> bool:
    return payload_size(value) <= MAX_PAYLOAD_BYTES


def install() -> list[str]:
    """Rebind moto's ``is_within_size_quota`` to :func:`within_quota` where the interpreter reads it."""
    import importlib

    for name in IMPORTERS:
        importlib.import_module(name).is_within_size_quota = within_quota
    return list(IMPORTERS)
