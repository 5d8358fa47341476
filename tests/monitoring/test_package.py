"""scones.monitoring's public names: each one lazily importable, and listed once."""

from __future__ import annotations

import importlib

import scones.monitoring as monitoring


def test_every_public_name_is_exported_and_resolves():
    assert sorted(monitoring.__all__) == sorted(monitoring._EXPORTS)
    for name in monitoring.__all__:
        module = importlib.import_module(monitoring._EXPORTS[name])
        assert getattr(monitoring, name) is getattr(module, name)
