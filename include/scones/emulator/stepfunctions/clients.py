"""One boto3 client per service for the interpreter's calls back into the emulator (and none for Lambda).

moto's interpreter builds a new boto3 client for every Task state it runs
(``moto/stepfunctions/parser/asl/utils/boto_client.py``: ``boto_client_for``). Building a
client loads and parses the service model: 20-30 ms of CPU each time, on the emulator's one
GIL, for every Lambda call of every execution (a sixth of the emulator's CPU in a batch
run). Clients are thread-safe, and moto's are all alike (fixed fake credentials, no
retries), so one per (service, region, port) serves every execution. The pool is sized for
the Map states' fan-out, which moto's default of 10 connections would make discard and
reopen connections. Lambda calls and SNS Publish skip HTTP altogether: :mod:`.lambda_calls`,
:mod:`.sns_calls`.
"""

from __future__ import annotations

import threading
from typing import Any

import boto3
from botocore.client import BaseClient
from botocore.config import Config

from scones.emulator.stepfunctions.lambda_calls import INTERPRETER_ACCESS_KEY, InProcessLambda
from scones.emulator.stepfunctions.sns_calls import InProcessSns

#: Concurrent calls one client can keep connections for (several executions' Map iterations).
MAX_POOL_CONNECTIONS = 64

_clients: dict[tuple[str, str, str | None], BaseClient] = {}
_lock = threading.Lock()


def boto_client_for(region: str, service: str, state_credentials: Any = None) -> BaseClient:
    """moto's ``boto_client_for``, same arguments and client settings, built once and kept."""
    from moto.core.models import botocore_stubber
    from moto.settings import moto_server_port
    from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import TimeoutSeconds

    # In-process moto (tests) intercepts calls without an endpoint; the server is called back over HTTP.
    endpoint_url = None if botocore_stubber.enabled else f"http://localhost:{moto_server_port()}"
    if service == "lambda" and endpoint_url is not None:
        return InProcessLambda(region)  # the backend is in this process: no HTTP to ourselves
    key = (service, region, endpoint_url)
    client = _clients.get(key)
    if client is None:
        with _lock:  # boto3's default session is not safe to build clients from concurrently
            client = _clients.get(key)
            if client is None:
                client = _clients[key] = boto3.client(
                    service_name=service,
                    region_name=region,
                    aws_access_key_id=INTERPRETER_ACCESS_KEY,
                    aws_secret_access_key="sk",
                    endpoint_url=endpoint_url,
                    config=Config(
                        parameter_validation=False,
                        retries={"max_attempts": 0, "total_max_attempts": 1},
                        connect_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS,
                        read_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS,
                        max_pool_connections=MAX_POOL_CONNECTIONS,
                    ),
                )
                if service == "sns" and endpoint_url is not None:
                    client = _clients[key] = InProcessSns(region, client)
    return client


#: The package whose modules call ``boto_client_for``: moto's Step Functions interpreter.
INTERPRETER_PACKAGE = "moto.stepfunctions.parser"


def install() -> list[str]:
    """Make every caller of moto's ``boto_client_for`` call :func:`boto_client_for`; return the callers' names.

    The callers are not listed by name: every module of the interpreter is imported, and each
    one that holds moto's function (``from ...boto_client import boto_client_for``) is pointed
    at ours, as is the defining module itself (for a caller that imports it at call time).
    So a caller that a moto upgrade adds is found too; ``seams.check_seams`` fails the start
    if none is found at all.
    """
    import importlib
    import pkgutil
    import sys

    from moto.stepfunctions.parser.asl.utils import boto_client

    original = boto_client.boto_client_for
    if original is boto_client_for:  # installed before
        original = _original[0]
    _original[:] = [original]
    package = importlib.import_module(INTERPRETER_PACKAGE)
    for info in pkgutil.walk_packages(package.__path__, f"{INTERPRETER_PACKAGE}."):
        if ".antlr" in info.name:  # the generated grammar: large, and no caller
            continue
        try:
            importlib.import_module(info.name)
        except ImportError:  # a few vendored modules import what moto does not ship: they never run either
            continue
    callers = []
    for name, module in list(sys.modules.items()):
        if name.startswith(INTERPRETER_PACKAGE) and getattr(module, "boto_client_for", None) in (
            original,
            boto_client_for,
        ):
            module.boto_client_for = boto_client_for  # type: ignore[attr-defined]
            callers.append(name)
    return sorted(callers)


#: moto's own ``boto_client_for``, kept for the seam checks (``seams.py``).
_original: list[Any] = []


def moto_boto_client_for() -> Any:
    """moto's ``boto_client_for`` (before or after :func:`install`)."""
    from moto.stepfunctions.parser.asl.utils import boto_client

    return _original[0] if _original else boto_client.boto_client_for
