"""``${Name}`` placeholders in JSON documents (state machines, IAM policies), filled at deploy time.

The document is parsed first and placeholders are replaced in its string values, so a value
can never break the JSON around it. A string that is exactly one placeholder takes the value's
own type (``"MaxConcurrency": "${MaxConcurrency}"`` becomes ``10``); inside a longer string the
value is inserted as text. Rendering fails if any placeholder is left without a value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from scones.workflow.errors import DefinitionError

PLACEHOLDER = re.compile(r"\$\{([A-Za-z][A-Za-z0-9_]*)\}")


def placeholders(document: Any) -> set[str]:
    """Names of the placeholders anywhere in a parsed JSON document (keys included)."""
    if isinstance(document, str):
        return set(PLACEHOLDER.findall(document))
    if isinstance(document, dict):
        return set().union(*(placeholders(k) | placeholders(v) for k, v in document.items()))
    if isinstance(document, list):
        return set().union(*(placeholders(v) for v in document))
    return set()


def _substitute(value: Any, values: Mapping[str, Any]) -> Any:
    if isinstance(value, str):
        if (whole := PLACEHOLDER.fullmatch(value)) and whole.group(1) in values:
            return values[whole.group(1)]
        return PLACEHOLDER.sub(lambda m: str(values[m.group(1)]) if m.group(1) in values else m.group(0), value)
    if isinstance(value, dict):
        return {_substitute(k, values): _substitute(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, values) for v in value]
    return value


def render(document: Any, values: Mapping[str, Any], what: str = "the document") -> Any:
    """``document`` with every placeholder filled from ``values``.

    :raises DefinitionError: a placeholder has no value (named, with the values that were given).
    """
    if missing := placeholders(document) - set(values):
        raise DefinitionError(
            f"{what} has placeholders with no value: {', '.join(sorted(missing))} "
            f"(given: {', '.join(sorted(values)) or 'none'})"
        )
    rendered = _substitute(document, values)
    if left := placeholders(rendered):  # a value that itself looks like a placeholder
        raise DefinitionError(f"{what} still has placeholders after rendering: {', '.join(sorted(left))}")
    return rendered


def load_json(path: Path) -> Any:
    """A JSON file, with its name in the error if it does not parse."""
    try:
        return json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise DefinitionError(f"{path} does not exist") from exc
    except ValueError as exc:
        raise DefinitionError(f"{path} is not valid JSON: {exc}") from exc
