"""The key store fix: an object dropped from a bucket is closed by its last reader, not at once.

moto's ``_VersionedKeyStore`` calls ``FakeKey.dispose()`` (closing the object's buffer) the
moment a PutObject replaces it or a DeleteObject removes it. A request still holding that
object (a GetObject streaming it, a PutObject computing its ETag) then failed with "I/O
operation on closed file". Here the dropped object is only marked; ``FakeKey.__del__``
closes it when the last reference goes, which is when no request can read it any more.
"""

from __future__ import annotations

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


def install_key_store() -> None:
    from moto.s3.utils import _VersionedKeyStore

    _VersionedKeyStore.setlist = setlist  # type: ignore[method-assign]
    _VersionedKeyStore.pop = pop  # type: ignore[method-assign,assignment]
