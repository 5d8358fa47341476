"""What can go wrong when deploying or running the classification workflow.

Hierarchy::

    SconesError
    └── WorkflowError
        ├── DefinitionError         a state machine or policy template is invalid or not fully rendered
        ├── PackagingError          a Lambda folder cannot be packaged
        ├── EndpointNotReady        the SageMaker endpoint the workflow calls is missing or not InService
        ├── ExecutionTimeout        an execution did not finish in time
        └── SmokeTestFailed         an execution's outcome differs from what was expected
"""

from __future__ import annotations

from scones.errors import SconesError


class WorkflowError(SconesError):
    """Base class of the workflow's errors."""


class DefinitionError(WorkflowError):
    """A state machine definition or policy template is invalid, or a placeholder is left."""


class PackagingError(WorkflowError):
    """A Lambda function's folder is missing or has no handler."""


class EndpointNotReady(WorkflowError):
    """The endpoint the classify Lambda calls does not exist or does not serve."""


class ExecutionTimeout(WorkflowError):
    """A Step Functions execution was still running when we stopped waiting."""


class SmokeTestFailed(WorkflowError):
    """A smoke execution ended differently from its expectation."""
