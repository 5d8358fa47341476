"""Step Functions for the local emulator: StartExecution runs the real definition.

moto 5.2.5 ships a state-machine interpreter (moto/stepfunctions/parser/, LocalStack's)
that its server uses only when ``execute_state_machine`` is on; ``LocalAWS.start()`` turns
it on (``POST /moto-api/config`` ``{"stepfunctions": {"execute_state_machine": true}}`` does
the same on any moto server). The interpreter then:

- runs each execution in a thread, Map iterations in threads of their own (up to the state's
  ``MaxConcurrency``), with Retry/Catch on error names;
- calls services through the client moto's ``boto_client_for`` gives it, which ``clients.py``
  replaces: ``arn:aws:states:::lambda:invoke`` and plain Lambda ARNs reach
  ``scones.emulator.awslambda`` in-process (``lambda_calls.py``), which runs the function's
  code, so an ``errorType`` raised there is the error name a Retry or Catch matches; other
  services (``arn:aws:states:::sns:publish``...) go through one kept boto3 client per service
  at ``http://localhost:$MOTO_PORT``, the port ``LocalAWS.start()`` sets.
- ``caches.py`` parses each definition and each JSONPath once instead of on every execution.
- ``timeouts.py`` names the state that timed out in a ``States.Timeout``'s cause;
  ``states_errors.py`` lets such an error leave a Map iteration under its own name.

``models.py`` corrects what clients would otherwise see differ from AWS (unnamed
executions, the ``output`` of DescribeExecution, an input or task output over Step Functions'
256 KiB); ``quotas.py`` gives the interpreter the same 256 KiB predicate (moto failed exactly 256 KiB).
"""

from __future__ import annotations

from scones.emulator.stepfunctions import lean_import

lean_import.import_interpreter()  # before anything imports moto's interpreter: see lean_import

from scones.emulator.stepfunctions import caches, clients, quotas, states_errors, timeouts  # noqa: E402
from scones.emulator.stepfunctions.models import LocalStepFunctionsBackend  # noqa: E402

__all__ = ["LocalStepFunctionsBackend", "install"]


def install() -> None:
    """Make moto's interpreter backends ``LocalStepFunctionsBackend`` (``LocalAWS`` calls this once).

    moto's ``get_backend`` (moto/stepfunctions/responses.py) hands out
    ``stepfunctions_parser_backends`` while ``execute_state_machine`` is on; changing the
    class that ``BackendDict`` instantiates changes what it hands out.
    """
    from scones.emulator.stepfunctions import seams

    seams.check_seams()  # before changing anything: a moved seam fails here, loudly

    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    from scones.emulator import unsupported
    from scones.emulator.stepfunctions import operations

    unsupported.refuse("stepfunctions", {action: operations.refusal(action) for action in operations.REFUSED})

    stepfunctions_parser_backends.backend = LocalStepFunctionsBackend
    for account_backends in stepfunctions_parser_backends.values():  # none in the emulator
        account_backends.backend = LocalStepFunctionsBackend
        for region_backend in account_backends.values():
            region_backend.__class__ = LocalStepFunctionsBackend  # same state, two methods changed
    callers = clients.install()
    caches.install()
    wrapped = timeouts.install()
    states_errors.install()
    quotas.install()
    seams.check_installed(callers, wrapped)
