"""How moto's objects are pickled: what is state is kept, what is a running thing is dropped.

moto's backends are plain objects, but some hold locks, conditions, events, weak
dictionaries (Lambda's ARN index) or our running compute (an endpoint's loaded models, a
training thread). Those are not state: a lock comes back new, an event with its flag, a weak
dictionary with its entries (their owners are pickled too), a thread or a loaded model as
None (:mod:`~scones.emulator.persistence.recovery` relaunches what was running). Anything
else that does not pickle fails the snapshot loudly rather than being skipped.
"""

from __future__ import annotations

import collections
import io
import pickle
import threading
import weakref
from pathlib import Path
from typing import Any

from scones.emulator.persistence.layout import StateRefused

_NEW_LOCK = {type(threading.Lock()): threading.Lock, type(threading.RLock()): threading.RLock}


def _none() -> None:
    return None


def _event(is_set: bool) -> threading.Event:
    event = threading.Event()
    if is_set:
        event.set()
    return event


def _defaultdict(factory: Any, items: dict[Any, Any]) -> collections.defaultdict[Any, Any]:
    return collections.defaultdict(factory, items)


def _portable_factory(factory: Any) -> Any:
    """A defaultdict's factory that pickles: moto's ``lambda: {}`` becomes ``dict`` (and so for list, set)."""
    if factory is None or getattr(factory, "__name__", "") != "<lambda>":
        return factory
    made = factory()
    if type(made) in (dict, list, set) and not made:
        return type(made)
    raise pickle.PicklingError(f"a defaultdict's factory {factory!r} cannot be kept")


def _dropped_types() -> tuple[type, ...]:
    """Running things, as opposed to state: dropped from a snapshot (None once loaded)."""
    from scones.emulator.sagemaker.hosting import Deployment

    return (threading.Thread, Deployment)


class StatePickler(pickle.Pickler):
    dropped: tuple[type, ...] = ()

    def reducer_override(self, obj: Any) -> Any:
        if type(obj) in _NEW_LOCK:
            return _NEW_LOCK[type(obj)], ()
        if isinstance(obj, threading.Condition):
            return threading.Condition, ()
        if isinstance(obj, threading.Event):
            return _event, (obj.is_set(),)
        if isinstance(obj, (weakref.WeakValueDictionary, weakref.WeakKeyDictionary)):
            return type(obj), (dict(obj.items()),)
        if type(obj) is collections.defaultdict and getattr(obj.default_factory, "__name__", "") == "<lambda>":
            return _defaultdict, (_portable_factory(obj.default_factory), dict(obj))
        if isinstance(obj, self.dropped):
            return _none, ()
        return NotImplemented


def dumps(obj: Any, pickler: type[StatePickler] = StatePickler) -> bytes:
    buffer = io.BytesIO()
    if not pickler.dropped:
        pickler.dropped = _dropped_types()
    pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(obj)
    return buffer.getvalue()


def load_file(path: Path, unpickler: type[pickle.Unpickler] = pickle.Unpickler, parts: int = 1) -> Any:
    """Unpickle ``path`` (``parts`` > 1: that many pickles one after another, as a list); any
    failure is :class:`StateRefused` naming the file.

    Only the emulator's own folder is read (``--state-dir``): pickle runs code named in the
    file, as moto's objects need, so the folder must be as private as the code itself.
    """
    try:
        with open(path, "rb") as source:
            loaded = [unpickler(source).load() for _ in range(parts)]  # one unpickler each: memos are per pickle
        return loaded[0] if parts == 1 else loaded
    except Exception as exc:
        raise StateRefused(
            f"the state file {path} is corrupt or unreadable ({type(exc).__name__}: {exc}); nothing "
            "was loaded; start with --ephemeral, or with --state-dir pointing at a new folder"
        ) from None
