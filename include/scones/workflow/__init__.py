"""The classification workflow: three Lambda functions and two state machines, deployed and exercised.

Public surface (imported lazily, so ``scones --help`` stays fast)::

    deploy_workflow(client, settings)    every deployment step, in order (the DAG runs them as tasks)
    package_function                     a Lambda folder as a deterministic zip
    render_definition, check_definition  state machine definitions with their ARNs, checked
    wait_for_executions, Outcome         how executions ended, from DescribeExecution

Its settings are ``Settings.workflow`` (:class:`scones.settings.WorkflowSettings`, env
``SCONES_WORKFLOW_<NAME>``); its resource names come from :mod:`scones.names`.

Modules: ``components`` (its functions and state machines), ``packaging`` (zips),
``functions`` (create-or-update Lambda), ``roles`` (IAM, with the policies in ``policies/``),
``alerts`` (SNS), ``definition`` + ``templates`` (ASL), ``statemachines``, ``deploy`` (the
deployment's steps, one per DAG task), ``executions``, ``smoke_executions`` (post-deployment
checks), ``traffic`` (load for the monitor), ``cli`` (``scones traffic``). Errors: ``errors``.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Outcome": "scones.workflow.executions",
    "check_definition": "scones.workflow.definition",
    "deploy_workflow": "scones.workflow.deploy",
    "package_function": "scones.workflow.packaging",
    "render_definition": "scones.workflow.definition",
    "wait_for_executions": "scones.workflow.executions",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'scones.workflow' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
