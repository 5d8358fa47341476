"""What can go wrong when deploying or running the classification workflow.

Hierarchy::

    SconesError
    ├── WorkflowError
    │   ├── DefinitionError         a state machine or policy template is invalid or not fully rendered   (not retried)
    │   ├── PackagingError          a Lambda folder cannot be packaged, or changed since it was           (not retried)
    │   ├── EndpointNotReady        the SageMaker endpoint the workflow calls is being created or updated
    │   │   └── EndpointNotServing  it does not exist, or failed: retrying will not bring it               (not retried)
    │   └── ExecutionTimeout        an execution did not finish in time

"(not retried)": also a :class:`~scones.errors.NonRetryableError`, which the DAGs' retry
policy fails at once. An execution whose outcome differs from what was expected raises
:class:`scones.errors.SmokeTestFailed`.
"""

from __future__ import annotations

from scones.errors import NonRetryableError, SconesError


class WorkflowError(SconesError):
    """Base class of the workflow's errors."""


class DefinitionError(WorkflowError, NonRetryableError):
    """A state machine definition or policy template is invalid, or a placeholder is left."""


class PackagingError(WorkflowError, NonRetryableError):
    """A Lambda function's folder is missing or has no handler, or changed since it was packaged."""


class EndpointNotReady(WorkflowError):
    """The endpoint the classify Lambda calls is not InService yet (being created or updated)."""


class EndpointNotServing(EndpointNotReady, NonRetryableError):
    """The endpoint does not exist, or is in a state it will not leave by itself (Failed)."""


class ExecutionTimeout(WorkflowError):
    """A Step Functions execution was still running when we stopped waiting."""
