"""Function code unzipped once per code hash, like Lambda's ``/var/task``.

Workers of the same code share one directory; the whole cache lives in a temporary directory
of the emulator process and is removed when it exits.
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
import threading
import zipfile
from pathlib import Path

from scones.emulator.awslambda.exceptions import InvalidZipFileException


class CodeCache:
    def __init__(self, root: Path | None = None) -> None:
        self._root = root
        self._lock = threading.RLock()  # root is read under it too

    @property
    def root(self) -> Path:
        with self._lock:
            if self._root is None:
                self._root = Path(tempfile.mkdtemp(prefix="scones-lambda-"))
            return self._root

    def task_root(self, function_name: str, digest: str, code: bytes) -> Path:
        """The directory holding ``code`` unzipped (created on first use)."""
        target = self.root / "code" / digest
        with self._lock:  # one extraction per digest, even when many invocations start at once
            if not target.is_dir():
                staging = Path(tempfile.mkdtemp(dir=self.root, prefix="unzip-"))
                try:
                    # extractall drops absolute paths and "..": a zip cannot write outside.
                    with zipfile.ZipFile(io.BytesIO(code)) as archive:
                        archive.extractall(staging)
                except (zipfile.BadZipFile, ValueError) as exc:
                    shutil.rmtree(staging, ignore_errors=True)
                    raise InvalidZipFileException(function_name, str(exc)) from None
                target.parent.mkdir(parents=True, exist_ok=True)
                staging.rename(target)
        return target

    def scratch_file(self, prefix: str) -> Path:
        """A new empty file in the cache (a worker's log file)."""
        handle, name = tempfile.mkstemp(dir=self.root, prefix=prefix)
        os.close(handle)
        return Path(name)

    def remove(self) -> None:
        with self._lock:
            if self._root is not None:
                shutil.rmtree(self._root, ignore_errors=True)
                self._root = None
