"""moto's backends, one file per BackendDict, written whole when they changed.

A BackendDict (``moto.sqs.models.sqs_backends``...) holds a service's backends for every
account and region. Its file is ``backends/<module>.<attribute>.pickle``: the module
attribute it is found under names it again at load time. S3's file holds the buckets and
their settings without their keys (``s3_objects`` writes those one by one).

Writing is skipped when the pickled bytes hash as those last written. A request pickles
only its own service's files and those it is known to change (``CROSS_EFFECTS``): a
SendMessage no longer pickles every log event of CloudWatch Logs.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import pickle
import sys
import threading
from pathlib import Path
from typing import Any

from scones.emulator.persistence import changes
from scones.emulator.persistence.layout import StateDir, StateRefused, commit, write_atomically
from scones.emulator.persistence.pickling import StatePickler, dumps, load_file

log = logging.getLogger(__name__)

S3_BACKENDS = "moto.s3.models.s3_backends"
#: A request to the key's service changes these services' state too, before it is answered.
CROSS_EFFECTS = {"sns": ("sqs",), "events": ("sqs", "sns", "logs")}


def modules_of(service: str) -> set[str] | None:
    """moto's modules holding ``service``'s state (and what its requests change), or None: all."""
    from moto.backends import ALT_SERVICE_NAMES

    if not service or service == "moto_api":
        return None
    names = (service, *CROSS_EFFECTS.get(service, ()))
    return {ALT_SERVICE_NAMES.get(name, name).replace("-", "") for name in names}


_KEYS_LEFT_OUT = "scones:keys-left-out"


class BucketsPickler(StatePickler):
    """S3's backends with each bucket's key store left out (an empty one once loaded), and the
    parts of multipart uploads in progress as their metadata and body file's name (moto's
    own pickling reads every part's body into the file, rewritten at each UploadPart)."""

    def persistent_id(self, obj: Any) -> Any:
        from moto.s3.utils import _VersionedKeyStore

        return _KEYS_LEFT_OUT if isinstance(obj, _VersionedKeyStore) else None

    def reducer_override(self, obj: Any) -> Any:
        from moto.s3.models import FakeKey

        from scones.emulator.persistence.s3_objects import _reduce_key, blob_name

        if type(obj) is FakeKey and blob_name(obj) is not None:
            return _reduce_key(obj)
        return super().reducer_override(obj)


class BucketsUnpickler(pickle.Unpickler):
    def persistent_load(self, pid: Any) -> Any:
        from moto.s3.utils import _VersionedKeyStore

        if pid != _KEYS_LEFT_OUT:
            raise pickle.UnpicklingError(f"unknown persistent id {pid!r}")
        return _VersionedKeyStore()


def _name_of(target: Any) -> str | None:
    """``module.attribute`` where moto keeps ``target`` (its own models module preferred)."""
    found = [
        f"{name}.{attr}"
        for name, module in list(sys.modules.items())
        if name.startswith("moto.") and module is not None
        for attr, value in list(vars(module).items())
        if value is target
    ]
    found.sort(key=lambda n: (not _defines(n), not n.rsplit(".", 1)[0].endswith(".models"), len(n), n))
    return found[0] if found else None


def _defines(name: str) -> bool:
    """``moto.sqs.models.sqs_backends``: the module of the service the attribute is named after
    (not ``moto.sns.models.sqs_backends``, the same object imported by SNS)."""
    module, _, attribute = name.rpartition(".")
    service = "_".join(part for part in module.split(".")[1:] if part != "models")
    return attribute.startswith(f"{service}_")


class BackendFiles:
    def __init__(self, state: StateDir) -> None:
        self.state = state
        self._names: dict[int, str | None] = {}
        self._last: dict[str, bytes] = {}  # a hash of each file's pickle as last written
        self._lock = threading.Lock()
        #: ``changes.generation()`` at the start of the last complete save: later background changes are unsaved.
        self.saved_generation = 0

    def _in_use(self) -> list[tuple[str, Any]]:
        from moto.core.base_backend import BackendDict

        named = []
        for backend_dict in list(BackendDict._instances):
            if id(backend_dict) not in self._names:
                self._names[id(backend_dict)] = _name_of(backend_dict)
            if (name := self._names[id(backend_dict)]) is not None:
                named.append((name, backend_dict))
        return named

    def path(self, name: str) -> Path:
        return self.state.backends / f"{name}.pickle"

    def save(self, include_s3: bool = True, only_s3: bool = False, modules: set[str] | None = None) -> int:
        """Write each BackendDict in use whose state changed; return how many files were written.

        ``modules``: only those of these moto modules (``modules_of(service)``); None: all.
        """
        written = 0
        with self._lock:
            generation = changes.generation()
            in_use = self._in_use()
            if modules is not None and not any(name.split(".")[1] in modules for name, _ in in_use):
                modules = None  # a service this mapping does not know: all, rather than nothing
            for name, backend_dict in in_use:
                is_s3 = name == S3_BACKENDS
                if (is_s3 and not include_s3) or (only_s3 and not is_s3):
                    continue
                if modules is not None and name.split(".")[1] not in modules:
                    continue
                data = self._pickle(name, backend_dict, BucketsPickler if is_s3 else StatePickler)
                digest = hashlib.blake2b(data, digest_size=16).digest() if data is not None else None
                if data is not None and self._last.get(name) != digest:
                    write_atomically(self.path(name), data)
                    self._last[name] = digest
                    written += 1
        if written:
            commit()
        if modules is None and (include_s3 or not only_s3):  # every service but (perhaps) S3's buckets
            self.saved_generation = max(self.saved_generation, generation)
        return written

    def unsaved(self) -> bool:
        """A change was made outside a request since the last save (see ``changes``)."""
        return changes.in_progress() or changes.generation() > self.saved_generation

    @staticmethod
    def _pickle(name: str, backend_dict: Any, pickler: type[StatePickler]) -> bytes | None:
        for attempt in range(20):
            try:
                accounts = {account: dict(regions) for account, regions in list(backend_dict.items())}
                return dumps(accounts, pickler)
            except RuntimeError:  # a request changed a dict while it was pickled: pickle again
                if attempt == 19:
                    raise
        return None

    def load(self) -> list[str]:
        """Put every saved BackendDict back (S3's buckets without keys); return their names."""
        read = []
        for path in sorted(self.state.backends.glob("*.pickle")):  # every file read before any is put back
            name = path.name.removesuffix(".pickle")
            module_name, _, attribute = name.rpartition(".")
            try:
                backend_dict = getattr(importlib.import_module(module_name), attribute)
            except (ImportError, AttributeError):
                raise StateRefused(
                    f"the state file {path} is for {name}, which this moto does not have; nothing was "
                    "loaded; start with --ephemeral, or with --state-dir pointing at a new folder"
                ) from None
            read.append(
                (name, backend_dict, load_file(path, BucketsUnpickler if name == S3_BACKENDS else pickle.Unpickler))
            )
        for _name, backend_dict, accounts in read:
            for account, regions in accounts.items():
                for region, backend in regions.items():
                    dict.__setitem__(backend_dict[account], region, backend)
        return [name for name, _, _ in read]
