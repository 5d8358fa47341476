"""The state folder: what is in it, whose it is, and one emulator at a time.

::

    <state dir>/
      manifest.json          format, project and moto versions, emulator code: another's folder is refused
      emulator.lock          flock'ed by the running emulator: a second one on the folder is refused
      backends/<name>.pickle one moto BackendDict (a service's backends, every account and region)
      s3/keys/<account>/<bucket>/<sha1 of key>.pickle   one key's versions, without their bodies
      s3/blobs/<id>          one object version's body
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import functools
import json
import os
import stat
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

#: Bumped when the folder's layout or what its pickles mean changes; an older folder is refused.
STATE_FORMAT = 1
MANIFEST = "manifest.json"


class StateRefused(RuntimeError):
    """The state folder cannot be loaded (another version, corrupt, in use); nothing was loaded."""


def project_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("scones-ml")
    except PackageNotFoundError:  # run from a source tree without the package installed
        return "unknown"


def emulator_fingerprint(package: Path | None = None) -> str:
    """A hash of the emulator's source (``scones/emulator/**/*.py``): its pickles hold the
    emulator's own classes, and the project's version number does not change with them."""
    import hashlib

    package = package or Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for source in sorted(package.rglob("*.py")):
        digest.update(source.relative_to(package).as_posix().encode() + b"\0" + source.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


@functools.cache
def expected_manifest() -> dict[str, object]:
    import moto

    return {
        "format": STATE_FORMAT,
        "scones": project_version(),
        "moto": moto.__version__,
        "emulator_code": emulator_fingerprint(),
    }


def _get_going(root: Path) -> str:
    return f"start with --ephemeral, or with --state-dir pointing at a new folder (or move {root} away)"


@dataclass
class StateDir:
    root: Path

    @property
    def backends(self) -> Path:
        return self.root / "backends"

    @property
    def keys(self) -> Path:
        return self.root / "s3" / "keys"

    @property
    def blobs(self) -> Path:
        return self.root / "s3" / "blobs"

    def open(self) -> IO[str]:
        """Create or check the folder; return the held lock file (closing it releases the folder).

        :raises StateRefused: written by another format, project or moto version, in use, or not
            private (owned by another user, or writable by others: its pickles are code to load)
        """
        _private_folder(self.root, parents=True)
        _check_private(self.root)
        fresh = not (self.root / "emulator.lock").exists()
        lock = os.fdopen(os.open(self.root / "emulator.lock", os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600), "a+")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            raise StateRefused(f"the state folder {self.root} is in use by another local AWS emulator") from None
        GROUP_COMMIT.attach(self.root)
        try:
            self._check_manifest()
        except BaseException:
            lock.close()
            if fresh and not (self.root / MANIFEST).exists():
                (self.root / "emulator.lock").unlink(missing_ok=True)  # leave a folder that is not ours as it was
            raise
        for folder in (self.backends, self.root / "s3", self.keys, self.blobs):
            _private_folder(folder)
            _check_private(folder)
        return lock

    def remove_temporaries(self) -> int:
        """Remove the temporary files of writes a crash cut short (:func:`write_atomically`'s);
        the folder held. Return how many."""
        found = [*self.root.glob(".*.tmp"), *self.backends.glob(".*.tmp"), *self.keys.glob("*/*/.*.tmp")]
        for path in found:
            path.unlink(missing_ok=True)
        return len(found)

    def _check_manifest(self) -> None:
        path = self.root / MANIFEST
        expected = expected_manifest()
        if not path.exists():
            if any(p.name != "emulator.lock" for p in self.root.iterdir()):
                raise StateRefused(
                    f"{self.root} is not empty and has no {MANIFEST}: it is not a local AWS "
                    f"state folder; {_get_going(self.root)}"
                )
            write_atomically(path, json.dumps(expected, indent=1).encode())
            commit()
            return
        try:
            found = json.loads(path.read_text())
            if not isinstance(found, dict):
                raise ValueError("not a JSON object")
        except (OSError, ValueError) as exc:
            raise StateRefused(f"the state folder's {path} is corrupt ({exc}); {_get_going(self.root)}") from None
        differ = [
            f"{name} {found.get(name)!r} (this emulator: {value!r})"
            for name, value in expected.items()
            if found.get(name) != value
        ]
        if differ:
            raise StateRefused(
                f"the state folder {self.root} was written by another version: {', '.join(differ)} "
                f"(emulator_code: a hash of scones/emulator's source); "
                f"it is not loaded (moto's objects are pickled, and another version may read them "
                f"wrong); {_get_going(self.root)}"
            )


def _private_folder(folder: Path, parents: bool = False) -> None:
    """Create ``folder`` readable by its owner only (bodies and secrets are stored in it)."""
    if not folder.exists():
        if parents:
            folder.parent.mkdir(parents=True, exist_ok=True)
        folder.mkdir(mode=0o700, exist_ok=True)
        # whatever the umask; a filesystem without POSIX permissions may refuse (EPERM): _check_private says so
        with contextlib.suppress(OSError):
            os.chmod(folder, 0o700)


def _check_private(folder: Path) -> None:
    """Refuse a folder another user could have written to (as ssh refuses a key file):
    unpickling what is in it runs code.

    On a filesystem that does not keep POSIX permissions (FAT/exFAT, NTFS or SMB mounts, WSL's
    ``/mnt/c`` without the ``metadata`` option), what the mount shows is all there is: a folder
    it shows private is accepted; one it shows writable by others is refused, saying that
    chmod cannot help there and where to put the folder instead. Not accepted anyway: who can
    write there is decided by mount options the emulator cannot check, and the pickles are code.
    """
    info = folder.lstat()
    if not stat.S_ISDIR(info.st_mode):
        raise StateRefused(f"the state folder's {folder} is not a folder; {_get_going(folder)}")
    shared = info.st_uid != os.geteuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    if shared and not _keeps_permissions(folder):
        raise StateRefused(
            f"the state folder {folder} is on a filesystem that does not keep POSIX permissions "
            f"({_filesystem(folder)}: it shows mode {stat.filemode(info.st_mode)}, owner uid {info.st_uid}, "
            f"and chmod does not change them), so the emulator cannot keep other users from writing "
            f"the code it would load from it; put the state folder on a filesystem that does, with "
            f"--state-dir (for example ~/.local/share/scones/aws-state, or a Docker volume rather than a "
            f"bind mount from Windows or macOS), or start with --ephemeral"
        )
    if info.st_uid != os.geteuid():
        raise StateRefused(
            f"the state folder {folder} is owned by another user (uid {info.st_uid}); loading it would "
            f"run what is in it as you; {_get_going(folder)}"
        )
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise StateRefused(
            f"the state folder {folder} is writable by others (mode {stat.filemode(info.st_mode)}); "
            f"loading it would run what they put in it; make it private with "
            f"`chmod go-w {folder}` (or chmod 700), or {_get_going(folder)}"
        )


def _keeps_permissions(folder: Path) -> bool:
    """Whether a mode set on a new file in ``folder`` holds (True if no file can be made there:
    permissions are enforced, and the folder is not ours)."""
    try:
        fd = os.open(folder / f".permissions-{os.getpid()}.tmp", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError:
        return True
    probe = folder / f".permissions-{os.getpid()}.tmp"
    try:
        os.fchmod(fd, 0o400)
        return stat.S_IMODE(os.fstat(fd).st_mode) == 0o400
    except OSError:  # EPERM: the filesystem has no modes to set
        return False
    finally:
        os.close(fd)
        probe.unlink(missing_ok=True)


def _filesystem(folder: Path) -> str:
    """``<type> mounted at <point>`` for ``folder`` (Linux's /proc/self/mounts), or "its filesystem"."""
    try:
        with open("/proc/self/mounts") as mounts:
            entries = [line.split()[1:3] for line in mounts if len(line.split()) >= 3]
    except OSError:
        return "its filesystem"
    path = str(folder.resolve())
    within = [(point, kind) for point, kind in entries if path == point or path.startswith(point.rstrip("/") + "/")]
    if not within:
        return "its filesystem"
    point, kind = max(within, key=lambda entry: len(entry[0]))
    return f"{kind} mounted at {point}"


#: Make each write survive a power cut, not only a kill -9, before the request is answered
#: (``SCONES_AWS_STATE_FSYNC=0``: a kill -9 still loses nothing; the kernel has the data).
FSYNC = os.environ.get("SCONES_AWS_STATE_FSYNC", "1") != "0"


def write_atomically(path: str | Path, data: bytes) -> None:
    """Write ``path`` as a whole or not at all: a temporary file renamed over the old one.

    Durable against a kill -9 once this returns; :func:`commit` makes it durable on disk. A
    short write (a disk nearly full, a file-size limit) raises ``OSError`` and leaves the old
    file as it was: ``os.write`` may write fewer bytes than asked without failing, so it is
    looped, and the temporary file is removed whatever fails.
    """
    folder, name = os.path.split(path)
    temporary = os.path.join(folder, f".{name}.{threading.get_ident()}.tmp")
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                if written <= 0:
                    raise OSError(errno.ENOSPC, f"could not write {path}: no byte written")
                view = view[written:]
            if FSYNC:
                os.fsync(fd)  # the rename must not reach the disk before the data it names
        finally:
            os.close(fd)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


class GroupCommit:
    """One ``syncfs`` for every write made while the previous one ran (a group commit).

    An fsync per file cost 8 ms (file + folder) on this project's ext4 disk: at 16 concurrent
    uploads that was most of each request. Here a writer waits for a sync that started after
    its write; whoever finds none running runs it for everybody waiting.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._requested = 0
        self._done = 0
        self._running = False
        self._fd: int | None = None

    def attach(self, folder: Path) -> None:
        self._fd = os.open(folder, os.O_RDONLY)

    def wait(self) -> None:
        with self._cond:
            self._requested += 1
            ticket = self._requested
            while self._done < ticket:
                if self._running:
                    self._cond.wait()
                    continue
                self._running, target = True, self._requested
                self._cond.release()
                try:
                    _syncfs(self._fd)
                finally:
                    self._cond.acquire()
                    self._running = False
                self._done = max(self._done, target)
                self._cond.notify_all()


@functools.cache
def _libc() -> Any:
    import ctypes

    return ctypes.CDLL(None, use_errno=True)


def _syncfs(fd: int | None) -> None:
    libc = _libc()
    if fd is None or not hasattr(libc, "syncfs") or libc.syncfs(fd) != 0:
        os.sync()  # no syncfs (not Linux), or it failed: every filesystem, the slower way


GROUP_COMMIT = GroupCommit()


def commit() -> None:
    """Return once everything written so far is on disk (a no-op with ``SCONES_AWS_STATE_FSYNC=0``)."""
    if FSYNC:
        GROUP_COMMIT.wait()
