"""moto's Step Functions interpreter, imported without moto's Batch and EC2 models.

The interpreter's Batch integration (``state_task_service_batch.py``) imports one enum from
``moto.batch.utils``, and Python runs ``moto/batch/__init__.py`` first, which imports Batch's
models and with them all of EC2's, whose ``RegionsAndZonesBackend`` parses EC2's service model
three times in its class body. That was 0.9 s of the emulator's 1.5 s start (cProfile of
``LocalAWS.start``), paid by every ``scones local-aws``, ``scones up`` and test restart, for a
service the emulator does not serve.

:func:`import_interpreter` imports the interpreter while ``moto.batch`` is a bare package
(its folder, none of its ``__init__``): ``moto.batch.utils`` and ``moto.batch.exceptions``
load on their own. The bare package leaves ``sys.modules`` afterwards, so the first Batch
request still imports ``moto.batch`` for real, reusing those two modules.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types

#: What :mod:`scones.emulator.stepfunctions.models` needs of the interpreter, and so imports first.
INTERPRETER = "moto.stepfunctions.parser.backend.execution"
BARE = "moto.batch"


def import_interpreter() -> None:
    """Import :data:`INTERPRETER` with ``moto.batch`` bare (a no-op once either is imported)."""
    if INTERPRETER in sys.modules or BARE in sys.modules:
        importlib.import_module(INTERPRETER)
        return
    spec = importlib.util.find_spec(BARE)
    bare = types.ModuleType(BARE, "moto.batch's folder only: see scones.emulator.stepfunctions.lean_import")
    bare.__path__ = list(spec.submodule_search_locations or [])
    bare.__package__ = BARE
    sys.modules[BARE] = bare
    try:
        importlib.import_module(INTERPRETER)
    except ImportError:
        # A moto that needs more of moto.batch than its utils: import it whole, as before (slower).
        _forget(bare)
        importlib.import_module(INTERPRETER)
    finally:
        _forget(bare)


def _forget(bare: types.ModuleType) -> None:
    """Take the bare package out of ``sys.modules`` (the modules loaded under it stay)."""
    if sys.modules.get(BARE) is bare:
        del sys.modules[BARE]
