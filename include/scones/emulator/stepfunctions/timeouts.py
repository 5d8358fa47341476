"""A state that times out names itself in the failure's cause.

moto's interpreter (LocalStack's) reports a Task that outlives its ``TimeoutSeconds`` as
``States.Timeout`` with no cause (``StateTask._get_timed_out_failure_event``,
``StateTaskLambda._from_error``). In a Map of thousands of iterations, or once the error has
been caught and passed on, nothing then says which state timed out. Here every execution
state's ``_from_error`` fills the cause of a timeout in: ``The state 'Classify' timed out
after 10 seconds (TimeoutSeconds)``; that cause travels, as on AWS, into the ``TaskTimedOut`` /
``LambdaFunctionTimedOut`` event, a Catch's ``$.Cause`` and the execution's ``cause``.

The states are found by walking the subclasses of ``ExecutionState`` that define
``_from_error``, so a state type moto adds is covered without being listed here.
"""

from __future__ import annotations

import functools
from typing import Any

_WRAPPED = "_scones_names_timeouts"


def install() -> list[type]:
    """Wrap ``_from_error`` of every execution state class; return the classes wrapped."""
    import moto.stepfunctions.parser.asl.parse.preprocessor  # noqa: F401 - imports every state class
    from moto.stepfunctions.parser.asl.component.state.exec.execute_state import ExecutionState

    wrapped = []
    for cls in _subclasses(ExecutionState):
        method = cls.__dict__.get("_from_error")
        if method is None or getattr(method, _WRAPPED, False):
            continue
        cls._from_error = _naming_timeouts(method)
        wrapped.append(cls)
    return wrapped


def _subclasses(cls: type) -> list[type]:
    found = [cls]
    for sub in cls.__subclasses__():
        found += _subclasses(sub)
    return list(dict.fromkeys(found))


def _naming_timeouts(from_error: Any) -> Any:
    @functools.wraps(from_error)
    def _from_error(self: Any, env: Any, ex: Exception) -> Any:
        event = from_error(self, env, ex)
        if isinstance(ex, TimeoutError):
            details = next(iter((event.event_details or {}).values()), None)
            if isinstance(details, dict) and not details.get("cause"):
                seconds = getattr(getattr(self, "timeout", None), "timeout_seconds", None)
                after = f" after {seconds} seconds (TimeoutSeconds)" if seconds else ""
                details["cause"] = f"The state '{self.name}' timed out{after}."
        return event

    setattr(_from_error, _WRAPPED, True)
    return _from_error
