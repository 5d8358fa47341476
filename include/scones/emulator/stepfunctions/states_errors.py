"""A ``States.*`` error raised inside a Map iteration reaches the Map state with its own name.

moto's interpreter re-raises an iteration's failure under ``CustomErrorName(error)``
(``IterationWorker._eval_job``, moto/stepfunctions/parser/asl/component/state/exec/state_map/
iteration/iteration_worker.py), and ``CustomErrorName`` refuses names that begin with
``States.``: so a ``States.Timeout`` (or ``States.TaskFailed``, ``States.DataLimitExceeded``...)
in any iteration failed the whole execution as ``States.Runtime`` "Custom Error Names MUST NOT
begin with the prefix 'States.'", which no Retry or Catch on ``States.Timeout`` matches. On AWS
the Map state fails with the iteration's error and cause.

Here constructing a ``CustomErrorName`` from the name of a known States error gives that
``StatesErrorName`` instead, wherever moto does it; any other ``States.`` name is still refused.
"""

from __future__ import annotations

from typing import Any


def install() -> None:
    from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import (
        ILLEGAL_CUSTOM_ERROR_PREFIX,
        CustomErrorName,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName

    if "__new__" in vars(CustomErrorName):
        return

    def __new__(cls: type, error_name: str | None = None) -> Any:
        if isinstance(error_name, str) and error_name.startswith(ILLEGAL_CUSTOM_ERROR_PREFIX):
            try:
                return StatesErrorName.from_name(error_name)  # not a CustomErrorName: __init__ is skipped
            except (ValueError, KeyError):
                pass  # an unknown States. name: CustomErrorName.__init__ refuses it, as before
        return object.__new__(cls)

    CustomErrorName.__new__ = __new__  # type: ignore[method-assign]
