"""What every plug-in's ``seams.py`` shares: the pinned moto version and how a moved seam is reported.

Each plug-in checks, before it changes anything in moto, that every moto internal it touches
is where it expects it (``check_seams()``), and fails the emulator's start naming the moto
version and each seam that moved. A check reads attributes and signatures, or calls moto,
never its source text, so a reformatted moto passes and a changed one fails.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

#: The moto version the seams were read from (pinned exactly in pyproject.toml).
MOTO_VERSION = "5.2.5"


class SeamMoved(RuntimeError):
    """moto no longer has the attribute or signature a plug-in overrides."""


def parameters(func: Callable[..., Any]) -> list[str]:
    return [p for p in inspect.signature(func).parameters if p != "self"]


class SeamCheck:
    """Collects what moved; :meth:`raise_if_moved` reports them all at once."""

    def __init__(self, plugin: str) -> None:
        import moto

        self.plugin = plugin
        self.problems: list[str] = []
        if moto.__version__ != MOTO_VERSION:
            self.problems.append(f"moto is {moto.__version__}; these seams were read from {MOTO_VERSION}")

    def expect(self, condition: bool, problem: str) -> None:
        if not condition:
            self.problems.append(problem)

    def signature(self, owner: Any, name: str, expected: tuple[str, ...]) -> None:
        """``owner.name`` exists and its parameters (without self) start with ``expected``."""
        func = getattr(owner, name, None)
        label = f"{getattr(owner, '__name__', owner)}.{name}"
        if func is None:
            self.problems.append(f"{label} is gone")
        elif tuple(parameters(func)[: len(expected)]) != expected:
            self.problems.append(f"{label}{inspect.signature(func)} changed; expected {expected}")

    def attributes(self, owner: Any, *names: str) -> None:
        label = getattr(owner, "__name__", str(owner))
        self.problems += [f"{label}.{name} is gone" for name in names if not hasattr(owner, name)]

    def raise_if_moved(self, review: str) -> None:
        if self.problems:
            raise SeamMoved(
                f"the {self.plugin} plug-in no longer fits moto; review {review}:\n  - " + "\n  - ".join(self.problems)
            )
