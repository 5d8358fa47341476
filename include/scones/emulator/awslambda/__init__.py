"""Lambda for the local emulator: Invoke runs the function's real code.

moto 5.2.5 stores functions but runs them only in Docker (without it, Invoke echoes the
payload). Here ``invoke`` runs the handler in a python process instead:

    Invoke ──> LocalLambdaBackend.invoke (models.py)       moto's backend, one method replaced
                 └─> WorkerPool.invoke (pool.py)           bound on concurrency, warm workers
                       └─> Worker (worker.py)              one process per execution environment
                             └─> bootstrap.py              imports the handler, serves events
               logs.py: START/END/REPORT and the output, to CloudWatch Logs /aws/lambda/<name>
    responses.py/urls.py: moto's Lambda API, with Invoke honouring its Qualifier

- The code is the zip of CreateFunction/UpdateFunctionCode, unzipped once per code hash
  (``code_cache.py``); the worker runs ``sys.executable`` (so boto3 is importable, as in
  Lambda's runtime) with the function's environment variables, fake credentials, its region,
  and ``AWS_ENDPOINT_URL`` pointing at this emulator.
- Workers stay warm between invocations of the same function version and configuration
  (module-level state survives); new code or configuration starts new ones, DeleteFunction
  stops them. A timeout kills the worker and answers Lambda's ``Sandbox.Timedout`` error.
- Python runtimes only: another runtime, or a container image, fails with
  ``InvalidRuntimeException`` and says why.

Settings (``_config.py``), through ``POST /moto-api/config`` ``{"lambda": {...}}`` or the
environment: ``max_concurrency`` (``SCONES_LAMBDA_MAX_CONCURRENCY``, default 10),
``idle_seconds`` (``SCONES_LAMBDA_IDLE_SECONDS``, default 300), ``endpoint_url``
(``SCONES_LAMBDA_ENDPOINT_URL``). moto's own ``{"lambda": {"use_docker": false}}`` switches
back to its echoing ``LambdaSimpleBackend``.
"""

from __future__ import annotations

import atexit

from scones.emulator.awslambda.models import POOL, LocalLambdaBackend, invoke_as_event

__all__ = ["POOL", "LocalLambdaBackend", "install", "invoke_as_event"]

_installed = False


def install() -> None:
    """Make moto's Lambda backends ``LocalLambdaBackend`` (``LocalAWS`` calls this once, before serving).

    moto's ``get_backend`` (moto/awslambda/utils.py) hands out ``lambda_backends`` unless
    ``use_docker`` is off: changing the class that ``BackendDict`` instantiates reaches every
    Invoke. The services that trigger a function themselves (an SNS subscription, an S3
    notification, a stream) call ``LambdaFunction.invoke`` instead, which would start Docker:
    that is routed to the same backend, asynchronously, as those services invoke on AWS.
    """
    global _installed
    from scones.emulator.awslambda import seams

    seams.check_seams()  # before changing anything: a moved seam fails here, loudly

    from moto.awslambda.models import LambdaFunction, lambda_backends

    from scones.emulator import unsupported
    from scones.emulator.awslambda import operations

    unsupported.refuse("awslambda", {action: operations.refusal(action) for action in operations.REFUSED})
    LambdaFunction.invoke = invoke_as_event  # type: ignore[method-assign]
    lambda_backends.backend = LocalLambdaBackend
    for account_backends in lambda_backends.values():  # created before install: none in the emulator
        account_backends.backend = LocalLambdaBackend
        for region_backend in account_backends.values():
            region_backend.__class__ = LocalLambdaBackend  # same state, one method more
    if not _installed:
        atexit.register(POOL.shutdown)
        _installed = True
