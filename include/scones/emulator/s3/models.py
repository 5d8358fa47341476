"""The key store fix: an object dropped from a bucket is closed by its last reader, not at once.

moto's ``_VersionedKeyStore`` calls ``FakeKey.dispose()`` (closing the object's buffer) the
moment a PutObject replaces it or a DeleteObject removes it. A request still holding that
object (a GetObject streaming it, a PutObject computing its ETag) then failed with "I/O
operation on closed file". Here the dropped object is only marked; ``FakeKey.__del__``
closes it when the last reference goes, which is when no request can read it any more.
That last reference used to be moto's own list of every FakeKey and FakeMultipart it made
(``instances_tracked``), so no dropped object was ever freed: here that list holds its
objects weakly (:class:`WeakInstances`).
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Iterator
from typing import Any


def _release(key: Any) -> None:
    # disposed=True only silences __del__'s "not disposed of in time" warning: __del__ still
    # closes the buffer, once nothing references the object.
    if hasattr(key, "dispose"):
        key.disposed = True


def setlist(self: Any, key: Any, list_: Any) -> Any:
    """``_VersionedKeyStore.setlist`` without closing the versions it drops."""
    if isinstance(list_, tuple):
        list_ = list(list_)
    elif not isinstance(list_, list):
        list_ = [list_]
    for existing in self.getlist(key, []):
        if existing not in list_:
            _release(existing)
    dict.__setitem__(self, key, list_)


def pop(self: Any, key: str) -> None:
    """``_VersionedKeyStore.pop`` without closing the versions it drops."""
    for version in self.getlist(key, []):
        _release(version)
    dict.pop(self, key)


class WeakInstances:
    """moto's ``instances_tracked`` list, holding its objects weakly.

    moto's ``BaseModel.__new__`` appends every FakeKey and FakeMultipart to a class-wide list,
    read only by ``S3Backend.reset`` (dispose what is still alive) and the ``/moto-api/data.json``
    dashboard. That list kept every dropped object forever: ``FakeKey.__del__`` (closing an
    ephemeral body's temporary file) and the state folder's removal of a dropped body file
    never ran. Here a dropped object goes with its last reader (a GET streaming it holds it).
    """

    def __init__(self, objects: Iterable[Any] = ()) -> None:
        self._refs: dict[int, weakref.ref[Any]] = {}
        for obj in objects:
            self.append(obj)

    def append(self, obj: Any) -> None:
        ident = id(obj)
        self._refs[ident] = weakref.ref(obj, lambda _, ident=ident: self._refs.pop(ident, None))

    def _alive(self) -> list[Any]:
        while True:
            try:
                refs = list(self._refs.values())
            except RuntimeError:  # changed by a collection in another thread: read again
                continue
            return [obj for ref in refs if (obj := ref()) is not None]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._alive())

    def __len__(self) -> int:
        return len(self._alive())


def _tracked_weakly(cls: type, *args: Any, **kwargs: Any) -> Any:
    """``BaseModel.__new__`` with a :class:`WeakInstances` (again after ``reset_model_data`` set a list)."""
    instance = object.__new__(cls)
    tracked = cls.__dict__.get("instances_tracked")
    if not isinstance(tracked, WeakInstances):
        tracked = WeakInstances(tracked or ())
        cls.instances_tracked = tracked  # type: ignore[attr-defined]
    tracked.append(instance)
    return instance


def install_key_store() -> None:
    from moto.s3.models import FakeKey, FakeMultipart
    from moto.s3.utils import _VersionedKeyStore

    for model in (FakeKey, FakeMultipart):
        model.__new__ = staticmethod(_tracked_weakly)  # type: ignore[assignment,method-assign]

    _VersionedKeyStore.setlist = setlist  # type: ignore[method-assign]
    _VersionedKeyStore.pop = pop  # type: ignore[method-assign,assignment]
