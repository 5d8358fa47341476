"""The state machines' definitions: load from ``statemachine/``, check the graph, render the ARNs.

``check_definition`` is what a reviewer checks by eye: a ``Comment``, ``StartAt`` names a
state, every ``Next``/``Default``/``Catch`` target exists in its own scope (a Map's item
processor is a scope of its own), every non-terminal state says where it goes, and every state
is reachable. Deployment renders and checks before anything is created.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from scones.workflow.errors import DefinitionError
from scones.workflow.templates import load_json, render

TERMINAL_TYPES = {"Succeed", "Fail"}
KNOWN_TYPES = {"Task", "Pass", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map"}


def load_definition(statemachine_dir: Path, name: str) -> dict[str, Any]:
    """``statemachine/<name>.asl.json``, parsed (placeholders still in)."""
    return load_json(statemachine_dir / f"{name}.asl.json")


def _targets(state: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """``(where, target)`` for every transition out of a state."""
    if "Next" in state:
        yield "Next", state["Next"]
    if "Default" in state:
        yield "Default", state["Default"]
    for i, choice in enumerate(state.get("Choices", [])):
        yield f"Choices[{i}].Next", choice.get("Next")
    for i, catcher in enumerate(state.get("Catch", [])):
        yield f"Catch[{i}].Next", catcher.get("Next")


def _nested_scopes(state: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for key in ("ItemProcessor", "Iterator"):  # Map (Iterator is the older spelling)
        if key in state:
            yield key, state[key]
    for i, branch in enumerate(state.get("Branches", [])):  # Parallel
        yield f"Branches[{i}]", branch


def definition_problems(scope: Mapping[str, Any], path: str = "") -> list[str]:
    """Everything wrong with one scope's graph (and its nested scopes'), as sentences."""
    problems: list[str] = []
    states = scope.get("States")
    if not isinstance(states, dict) or not states:
        return [f"{path or 'the definition'} has no States"]
    start = scope.get("StartAt")
    if start not in states:
        problems.append(f"{path}StartAt {start!r} is not a state")
    edges: dict[str, set[str]] = {}
    for name, state in states.items():
        where = f"{path}{name}"
        kind = state.get("Type")
        if kind not in KNOWN_TYPES:
            problems.append(f"{where}: unknown Type {kind!r}")
        edges[name] = set()
        for field, target in _targets(state):
            if target not in states:
                problems.append(f"{where}.{field} -> {target!r}, which is not a state in this scope")
            else:
                edges[name].add(target)
        if kind == "Choice" and not state.get("Choices"):
            problems.append(f"{where}: a Choice state needs Choices")
        elif kind not in TERMINAL_TYPES | {"Choice"} and not state.get("End") and "Next" not in state:
            problems.append(f"{where}: neither Next nor End, so the execution cannot go on")
        if state.get("End") and "Next" in state:
            problems.append(f"{where}: has both Next and End")
        for label, nested in _nested_scopes(state):
            problems += definition_problems(nested, f"{where}.{label}.")
    reachable: set[str] = set()
    todo = [start] if start in states else []
    while todo:
        name = todo.pop()
        if name not in reachable:
            reachable.add(name)
            todo.extend(edges[name])
    problems += [f"{path}{name}: unreachable from StartAt {start!r}" for name in states if name not in reachable]
    return problems


def check_definition(definition: Mapping[str, Any], name: str = "the definition") -> None:
    """Raise :class:`DefinitionError` listing every problem of the graph."""
    problems = [] if definition.get("Comment") else ["no top-level Comment saying what it does"]
    problems += definition_problems(definition)
    if problems:
        raise DefinitionError(f"{name} is invalid:\n  " + "\n  ".join(problems))


def render_definition(definition: Mapping[str, Any], values: Mapping[str, Any], name: str = "the definition") -> str:
    """The definition with its ARNs filled in, checked, as the JSON text Step Functions takes."""
    rendered = render(definition, values, what=name)
    check_definition(rendered, name)
    return json.dumps(rendered, indent=2, sort_keys=False)
