"""An invocation's lines in CloudWatch Logs, as Lambda writes them.

One log stream per execution environment (worker), in the group ``/aws/lambda/<name>``::

    INIT_START Runtime Version: python:3.11          (cold start only, then what import printed)
    START RequestId: <id> Version: $LATEST
    ...what the handler printed or logged...
    END RequestId: <id>
    REPORT RequestId: <id>  Duration: 1.52 ms  Billed Duration: 2 ms  Memory Size: 128 MB ...

``LogType=Tail`` returns the last 4 KB of START..REPORT, base64-encoded.
"""

from __future__ import annotations

import base64
import math
import sys
import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from moto.logs.models import LogsBackend

    from scones.emulator.awslambda.function_spec import FunctionSpec
    from scones.emulator.awslambda.worker import Outcome

#: Lambda's LogResult holds the last 4 KB of the invocation's log.
TAIL_BYTES = 4096

# moto's log streams are plain lists ("to be thread safe this would need a lock").
_write_lock = threading.Lock()


def invocation_lines(spec: FunctionSpec, outcome: Outcome) -> tuple[list[str], list[str]]:
    """The init lines (empty on a warm start) and the START..REPORT lines of one invocation."""
    init: list[str] = []
    if outcome.init_ms is not None:
        init.append(f"INIT_START Runtime Version: python:{sys.version_info.major}.{sys.version_info.minor}")
        init.extend(_lines(outcome.init_output))
    rid = outcome.request_id
    report = [
        f"REPORT RequestId: {rid}",
        f"Duration: {outcome.duration_ms:.2f} ms",
        f"Billed Duration: {max(math.ceil(outcome.duration_ms), 1)} ms",
        f"Memory Size: {spec.memory_size} MB",
        f"Max Memory Used: {outcome.max_memory_mb} MB",
    ]
    if outcome.init_ms is not None:
        report.append(f"Init Duration: {outcome.init_ms:.2f} ms")
    if outcome.status:
        report.append(f"Status: {outcome.status}")
        if outcome.error:
            report.append(f"Error Type: {outcome.error['errorType']}")
    lines = [
        f"START RequestId: {rid} Version: {spec.version}",
        *_lines(outcome.output),
        f"END RequestId: {rid}",
        "\t".join(report),
    ]
    return init, lines


def tail(lines: list[str]) -> str:
    """``LogResult``: the last 4 KB of the invocation's lines, base64."""
    text = ("\n".join(lines) + "\n").encode()
    return base64.b64encode(text[-TAIL_BYTES:]).decode()


def write(logs: LogsBackend, group: str, stream: str, lines: list[str]) -> None:
    """Append ``lines`` as events to ``group``/``stream``, creating both as needed."""
    now = int(time.time() * 1000)
    with _write_lock:
        logs.ensure_log_group(group)
        logs.ensure_log_stream(group, stream)
        logs.put_log_events(group, stream, [{"timestamp": now, "message": line} for line in lines])


def _lines(text: str) -> list[str]:
    return text.splitlines()
