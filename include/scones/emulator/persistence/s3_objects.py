"""S3 objects on disk: each body a file, each key's versions a small record written before S3 answers.

moto keeps every object's body in a ``SpooledTemporaryFile`` (in memory up to 16 MB), so the
emulator's memory grew with what it stored. Here moto's ``tempfile`` is swapped for one that
opens a file in ``s3/blobs/``: the body is written there once, as moto writes it, and is
the persisted copy too (a :class:`Blob`, opened per read or write, holding no file
descriptor). moto's key store (``_VersionedKeyStore.setlist`` / ``__setitem__`` /
``pop``) is where a PutObject, CopyObject, CompleteMultipartUpload or DeleteObject lands,
from a request or from our own compute (data capture, training output): after each, that
key's versions are written to ``s3/keys/<account>/<bucket>/<sha1>.pickle`` (their metadata
and the names of their body files), atomically, before the request returns. A dropped
version's body file is removed once its FakeKey is gone, after the last request reading it
(as the S3 plug-in closes dropped objects only then).

Cost per object write: its record (a few hundred bytes) and a share of a group commit
(``layout.GroupCommit``: one syncfs for all the writes made while the previous one ran).
A multipart upload's part files go when it is aborted, when a part is uploaded again (the
replaced one), and once it is completed (each part then reads its range of the object's file).

Not kept: a completed multipart object's part list (``FakeKey.multipart``): GetObject with
PartNumber answers for the whole object after a restart.
"""

from __future__ import annotations

import contextlib
import copyreg
import hashlib
import io
import logging
import os
import pickle
import threading
import time
import types
import uuid
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from scones.emulator.persistence.layout import StateDir, commit, write_atomically
from scones.emulator.persistence.pickling import StatePickler, load_file
from scones.emulator.persistence.requests import COSTS

log = logging.getLogger(__name__)

_state: StateDir | None = None
_paused = threading.local()  # set while loading: the key store's hooks write nothing


_blobs = ""  # the blobs folder as a string, for the per-object path


def blobs_folder() -> str | None:
    """Where bodies are kept (None: no state folder, moto keeps them)."""
    return _blobs or None


def blob_path(name: str) -> Path:
    assert _state is not None
    return _state.blobs / name


class _Body:
    """One body file's lifetime: once its version is dropped, the file goes with the last
    :class:`Blob` reading it (the version's own, or a deep copy's from ListObjectVersions)."""


class Blob:
    """A FakeKey's body as a file in ``s3/blobs/``, opened for each use, never held open.

    What moto calls on its buffer (``seek``, ``read``, ``write``, ``truncate``, ``close``),
    without a file descriptor per stored object: an emulator holding 100,000 objects would
    otherwise need 100,000 of them (1,024 is a common limit).
    """

    offset = 0  # where the body starts in the file (a completed upload's part: see PartOfBody)

    def __init__(self, path: str | Path, exists: bool = True, body: _Body | None = None) -> None:
        self.name = str(path)
        self._position = 0
        self._exists = exists  # a new body's file is created by its first write
        self.closed = False
        self.body = body or _Body()  # shared by the copies of one FakeKey (each its own position)

    def share(self) -> Blob:
        """Another reader of the same body file (a deep copy of its FakeKey), with its own position."""
        return Blob(self.name, self._exists, self.body)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size()}[whence]
        self._position = base + offset
        return self._position

    def tell(self) -> int:
        return self._position

    def _size(self) -> int:
        try:
            return os.path.getsize(self.name)
        except FileNotFoundError:
            return 0

    def read(self, size: int = -1) -> bytes:
        with open(self.name, "rb") as body:
            body.seek(self._position)
            data = body.read() if size is None or size < 0 else body.read(size)
        self._position += len(data)
        return data

    def write(self, data: bytes) -> int:
        try:
            flags = os.O_RDWR if self._exists else os.O_RDWR | os.O_CREAT | os.O_TRUNC
            with open(os.open(self.name, flags, 0o600), "r+b") as body:  # readable by the emulator's user only
                body.seek(self._position)
                body.write(data)
        except OSError:  # a disk full, a file-size limit: the body is not stored, and takes no room
            with contextlib.suppress(OSError):
                os.unlink(self.name)
            self._exists = False
            raise
        self._exists = True
        self._position += len(data)
        return len(data)

    def adopt(self, path: str, size: int) -> None:
        """Make the file at ``path`` (in the blobs folder: a large body received there) this body."""
        os.replace(path, self.name)
        self._exists = True
        self._position = size

    def truncate(self, size: int | None = None) -> int:
        size = self._position if size is None else size
        if self._exists:
            os.truncate(self.name, size)
        elif size:
            self.write(b"")
            os.truncate(self.name, size)
        return size

    def flush(self) -> None:
        """Every write is closed at once: the kernel has it (the group commit puts it on disk)."""

    def close(self) -> None:
        self.closed = True


class PartOfBody(Blob):
    """A completed upload's part as its range of the object's body file: GetObject PartNumber
    reads it there, and the part's own file goes (it was a second copy of those bytes)."""

    def __init__(self, whole: Blob, offset: int, size: int) -> None:
        super().__init__(whole.name, True, whole.body)
        self.offset, self.size = offset, size

    def share(self) -> Blob:
        return PartOfBody(self, self.offset, self.size)

    def _size(self) -> int:
        return self.size

    def read(self, size: int = -1) -> bytes:
        left = max(0, self.size - self._position)
        with open(self.name, "rb") as body:
            body.seek(self.offset + self._position)
            data = body.read(left if size is None or size < 0 else min(size, left))
        self._position += len(data)
        return data

    def write(self, data: bytes) -> int:
        raise io.UnsupportedOperation("a completed upload's part is read only")

    def truncate(self, size: int | None = None) -> int:
        raise io.UnsupportedOperation("a completed upload's part is read only")


def _set_part(original: Callable[..., Any]) -> Callable[..., Any]:
    """``FakeMultipart.set_part``: a part uploaded again replaces the previous one, whose file goes."""

    def set_part(self: Any, part_id: int, value: Any) -> Any:
        replaced = self.parts.get(part_id)
        part = original(self, part_id, value)
        if replaced is not None and replaced is not part:
            _unlink_dropped([replaced])
        return part

    set_part.__wrapped__ = original  # type: ignore[attr-defined]
    return set_part


def _abort(original: Callable[..., Any]) -> Callable[..., Any]:
    """``S3Backend.abort_multipart_upload``: the upload's part files go."""

    def abort_multipart_upload(self: Any, bucket_name: str, multipart_id: str) -> Any:
        upload = self.get_bucket(bucket_name).multiparts.get(multipart_id)
        result = original(self, bucket_name, multipart_id)
        if upload is not None:
            _unlink_dropped(list(upload.parts.values()))
        return result

    abort_multipart_upload.__wrapped__ = original  # type: ignore[attr-defined]
    return abort_multipart_upload


def _complete(original: Callable[..., Any]) -> Callable[..., Any]:
    """``S3Backend.complete_multipart_upload``: once the object is stored (its record committed),
    each listed part becomes its range of the object's file and its own file goes; a part not
    listed is not part of the object (S3 discards it) and goes too."""

    def complete_multipart_upload(self: Any, bucket_name: str, multipart_id: str, body: Any) -> Any:
        listed = list(body)
        key = original(self, bucket_name, multipart_id, iter(listed))
        upload = getattr(key, "multipart", None)
        if key is None or upload is None or not isinstance(key._value_buffer, Blob):
            return key
        numbers = [number for number, _ in listed]
        _unlink_dropped(list(upload.parts.values()))
        offset = 0
        for number in numbers:
            part = upload.parts[number]
            part._value_buffer = PartOfBody(key._value_buffer, offset, part.contentsize)
            offset += part.contentsize
        for number in [n for n in upload.parts if n not in numbers]:
            del upload.parts[number]
            with contextlib.suppress(ValueError):
                upload.partlist.remove(number)
        return key

    complete_multipart_upload.__wrapped__ = original  # type: ignore[attr-defined]
    return complete_multipart_upload


def _new_blob(max_size: int = 0, *args: Any, **kwargs: Any) -> Blob:
    """What ``tempfile.SpooledTemporaryFile`` gives moto's FakeKey: here a file in the state folder."""
    return Blob(os.path.join(_blobs, uuid.uuid4().hex), exists=False)


def blob_name(key: Any) -> str | None:
    buffer = getattr(key, "_value_buffer", None)
    return os.path.basename(buffer.name) if isinstance(buffer, Blob) else None


def _restore_key(state: dict[str, Any], blob: str) -> Any:
    from moto.s3.models import FakeKey

    key = FakeKey.__new__(FakeKey)
    key.__dict__.update(state)
    key._value_buffer = Blob(blob_path(blob))
    key.lock = threading.Lock()
    key.multipart = None
    return key


def _reduce_key(key: Any) -> tuple[Any, ...]:
    """A FakeKey in a record: its metadata and its body file's name, not the body."""
    state = {k: v for k, v in key.__dict__.items() if k not in ("_value_buffer", "lock", "multipart")}
    return _restore_key, (state, blob_name(key))


class KeyPickler(StatePickler):
    """A key's versions, when something in them needs :class:`StatePickler`'s care (a lock...)."""

    def reducer_override(self, obj: Any) -> Any:
        from moto.s3.models import FakeKey

        return _reduce_key(obj) if type(obj) is FakeKey else super().reducer_override(obj)


def _pickle_versions(versions: list[Any], buffer: io.BytesIO) -> None:
    """The C pickler with FakeKey in its dispatch table (no Python call per object: 3x faster
    than :class:`KeyPickler`, which is the fallback)."""
    from moto.s3.models import FakeKey

    start = buffer.tell()
    try:
        fast = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
        fast.dispatch_table = {**copyreg.dispatch_table, FakeKey: _reduce_key}
        fast.dump(versions)
    except (pickle.PicklingError, TypeError, AttributeError):
        buffer.seek(start)
        buffer.truncate()
        KeyPickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(versions)


_made_folders: set[str] = set()


def record_path(account: str, bucket: str, key: str) -> str:
    """``s3/keys/<account>/<bucket>/<sha1 of key>.pickle`` (strings, not Path: this is per request)."""
    assert _state is not None
    folder = os.path.join(_state.keys, account, bucket)
    if folder not in _made_folders:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        _made_folders.add(folder)
    return os.path.join(folder, f"{hashlib.sha1(key.encode()).hexdigest()}.pickle")


def _owner(versions: list[Any]) -> tuple[str, str] | None:
    for version in versions:
        key = getattr(version, "key", version)  # a delete marker names the key it hides
        if getattr(key, "bucket_name", None):
            return key.account_id, key.bucket_name
    return None


def write_record(name: str, versions: list[Any], owner: tuple[str, str] | None = None) -> None:
    """Write (or, with no versions, remove) key ``name``'s record."""
    owner = owner or _owner(versions)
    if owner is None:
        return
    path = record_path(owner[0], owner[1], name)
    if not versions:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        return
    # A delete marker holds the version it hides: its body is named too (kept by the garbage collection).
    bodies = [blob_name(v) for v in versions] + [blob_name(getattr(v, "key", None)) for v in versions]
    partition = next((p for v in versions if (p := getattr(getattr(v, "key", v), "partition", None))), "aws")
    header = {"bucket": owner[1], "key": name, "partition": partition, "blobs": sorted({b for b in bodies if b})}
    buffer = io.BytesIO()
    pickle.dump(header, buffer, protocol=pickle.HIGHEST_PROTOCOL)
    _pickle_versions(list(versions), buffer)
    write_atomically(path, buffer.getvalue())


def _unlink_dropped(dropped: list[Any]) -> None:
    """A dropped version's body goes when its FakeKey does: after the last request reading it.

    (Not at exit: a version still referenced then is removed by the next start's garbage collection.)
    """
    for version in dropped:
        if (name := blob_name(version)) is not None:
            weakref.finalize(version._value_buffer.body, blob_path(name).unlink, missing_ok=True).atexit = False


def _deepcopy_key(key: Any, memo: dict[int, Any]) -> Any:
    """A FakeKey's deep copy shares its body file (bodies are never rewritten in place).

    moto's own copy goes through ``__getstate__``/``__setstate__``: the body read whole and
    written to a new file, never removed (ListObjectVersions deep-copies every version).
    """
    import copy

    clone = type(key).__new__(type(key))
    memo[id(key)] = clone
    for name, value in key.__dict__.items():
        if name == "_value_buffer":
            clone.__dict__[name] = value.share() if isinstance(value, Blob) else copy.deepcopy(value, memo)
        elif name == "lock":
            clone.__dict__[name] = threading.Lock()
        else:
            clone.__dict__[name] = copy.deepcopy(value, memo)
    return clone


def _after(store: Any, kind: str, key: str, args: tuple[Any, ...]) -> list[Any]:
    """The key's versions once ``kind`` is done (moto's setlist accepts one version or a tuple too)."""
    if kind == "pop":
        return []
    if kind == "setitem":
        return [*store.getlist(key, []), args[0]]
    versions = args[0]
    return list(versions) if isinstance(versions, (list, tuple)) else [versions]


def _hooked(store_method: Callable[..., Any], kind: str) -> Callable[..., Any]:
    def method(self: Any, key: str, *args: Any) -> Any:
        if getattr(_paused, "on", False) or _state is None:
            return store_method(self, key, *args)
        before = list(self.getlist(key, []))
        after = _after(self, kind, key, args)
        # The record first: once the key store changes, a listing shows the change, and what
        # a client was shown must survive a crash. (A crash between the two keeps a write
        # that was never answered: allowed, as for any request cut short.)
        started = time.perf_counter()
        owner = _owner(after) or _owner(before)
        try:
            write_record(key, after, owner)
            commit()  # the body and the record on disk, with those of every concurrent write
        except OSError:  # not stored: the key store is left as it was, and so is the record if it can be
            with contextlib.suppress(OSError):
                write_record(key, before, owner)
            for version in after:
                if all(version is not b for b in before) and (name := blob_name(version)):
                    blob_path(name).unlink(missing_ok=True)
            raise
        COSTS.add(started)
        result = store_method(self, key, *args)
        _unlink_dropped([v for v in before if all(v is not a for a in after)])
        return result

    method.__wrapped__ = store_method  # type: ignore[attr-defined]
    return method


def install(state: StateDir) -> None:
    """Bodies into ``state``'s blobs; every key store change into its record. Before any S3 object exists."""
    global _state, _blobs
    import moto.s3.models
    from moto.s3.utils import _VersionedKeyStore

    _state, _blobs = state, str(state.blobs)
    moto.s3.models.tempfile = types.SimpleNamespace(SpooledTemporaryFile=_new_blob)  # type: ignore[attr-defined]
    moto.s3.models.FakeKey.__deepcopy__ = _deepcopy_key  # type: ignore[attr-defined]
    _VersionedKeyStore.setlist = _hooked(_VersionedKeyStore.setlist, "setlist")  # type: ignore[method-assign]
    _VersionedKeyStore.__setitem__ = _hooked(_VersionedKeyStore.__setitem__, "setitem")  # type: ignore[method-assign]
    _VersionedKeyStore.pop = _hooked(_VersionedKeyStore.pop, "pop")  # type: ignore[method-assign,assignment]
    moto.s3.models.FakeMultipart.set_part = _set_part(moto.s3.models.FakeMultipart.set_part)  # type: ignore[method-assign]
    backend = moto.s3.models.S3Backend
    backend.abort_multipart_upload = _abort(backend.abort_multipart_upload)  # type: ignore[method-assign]
    backend.complete_multipart_upload = _complete(backend.complete_multipart_upload)  # type: ignore[method-assign]


def persist_key(backend: Any, bucket: str, key: str) -> None:
    """Rewrite one key's record: after a request that changed a stored object in place (tags, ACL...)."""
    found = backend.buckets.get(bucket)
    if found is not None:
        write_record(key, list(found.keys.getlist(key, [])), (backend.account_id, bucket))


def records() -> Iterator[Path]:
    assert _state is not None
    yield from _state.keys.glob("*/*/*.pickle")


def collect_garbage(named: set[str], s3_backends: Any) -> int:
    """Remove body files that neither a key record (``named``) nor a multipart upload in
    progress uses: left by a crash between a body's write and its record, or dropped while
    still read at a stop. Run once everything is loaded; return how many were removed."""
    assert _state is not None
    in_use = set(named)
    for _, regions in list(s3_backends.items()):
        for backend in list(regions.values()):
            for bucket in list(backend.buckets.values()):
                for upload in list(bucket.multiparts.values()):
                    in_use.update(b for part in list(upload.parts.values()) if (b := blob_name(part)))
    removed = 0
    for blob in _state.blobs.iterdir():
        if blob.name not in in_use:
            blob.unlink(missing_ok=True)
            removed += 1
    return removed


def forget_dropped_buckets(s3_backends: Any) -> int:
    """Remove the key records of buckets the state no longer has; return how many.

    ``/moto-api/reset`` drops every bucket without a word to their key stores: their records
    would otherwise wait on disk and fill a bucket made again under the same name at the next
    start. Their body files become orphans, removed at the next start.
    """
    removed = 0
    for path in records():
        header = load_file(path)  # the record's first pickle: which bucket, in which partition
        backend = s3_backends[path.parent.parent.name][header.get("partition", "aws")]
        if backend.buckets.get(header["bucket"]) is None:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def load_keys(s3_backends: Any) -> tuple[int, set[str]]:
    """Put every recorded key back in its bucket (the buckets loaded first); return how many
    keys, and the body files they name. Every record is read and checked before any is put back.

    :raises StateRefused: a record is corrupt or names a body file that is missing
    """
    from scones.emulator.persistence.layout import StateRefused

    found, named = [], set()
    _paused.on = True
    try:
        for path in records():
            header, versions = load_file(path, parts=2)
            for name in header["blobs"]:
                if not blob_path(name).exists():
                    raise StateRefused(
                        f"the state file {path} names the body {blob_path(name)}, which is missing; "
                        "nothing was loaded; start with --ephemeral, or with --state-dir pointing at a new folder"
                    )
            named.update(header["blobs"])  # kept, loaded or not: nothing is deleted on a failed lookup
            bucket = s3_backends[path.parent.parent.name][header.get("partition", "aws")].buckets.get(header["bucket"])
            if bucket is None:  # left by a /moto-api/reset, or the bucket's file is older: kept on disk, not shown
                log.warning(
                    "the state file %s is for bucket %s, which is not in the saved state: not loaded (kept)",
                    path,
                    header["bucket"],
                )
                continue
            found.append((bucket, header["key"], versions))
        for bucket, key, versions in found:
            dict.__setitem__(bucket.keys, key, versions)
    finally:
        _paused.on = False
    return len(found), named
