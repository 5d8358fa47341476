"""What the workflow is made of: three Lambda functions and two state machines.

Their names come from :class:`scones.names.ResourceNames`, their settings from
:class:`scones.settings.WorkflowSettings` (``SCONES_WORKFLOW_<NAME>``).
"""

from __future__ import annotations

from scones.names import STATE_MACHINE_SUFFIXES

#: The three functions, in the order the state machine calls them: folder -> placeholder.
FUNCTIONS: dict[str, str] = {
    "serialize_image_data": "SerializeImageDataArn",
    "classify_image": "ClassifyImageArn",
    "filter_inferences": "FilterInferencesArn",
}
#: The state machines, by ASL file stem in statemachine/.
STATE_MACHINES: tuple[str, ...] = tuple(STATE_MACHINE_SUFFIXES)
