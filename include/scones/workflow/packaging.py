"""Deterministic zips of the Lambda functions, built in memory.

The same code gives the same bytes, hence the same ``CodeSha256`` that Lambda reports, which
is how deployment knows the code is unchanged. So every entry has a fixed timestamp
(1980-01-01, zip's epoch), fixed Unix permissions (0644: Lambda needs files world-readable),
a sorted order, and is stored, not deflated: handlers are a few KiB, and zlib's output may
differ between zlib builds.
"""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from scones.workflow.errors import PackagingError

ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644  # regular file, rw-r--r--
HANDLER_FILE = "handler.py"
HANDLER = "handler.lambda_handler"


@dataclass(frozen=True)
class FunctionPackage:
    folder: str  # e.g. "classify_image"
    zip_bytes: bytes

    @property
    def code_sha256(self) -> str:
        """base64 of the zip's SHA-256, exactly as Lambda's ``CodeSha256``."""
        return code_sha256(self.zip_bytes)

    @property
    def size(self) -> int:
        return len(self.zip_bytes)

    def summary(self) -> dict[str, str]:
        """What travels to another task (an XCom): the folder and the CodeSha256, not the zip."""
        return {"folder": self.folder, "code_sha256": self.code_sha256}


def code_sha256(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


def deterministic_zip(files: Mapping[str, bytes]) -> bytes:
    """A zip of ``{archive name: content}`` whose bytes depend on the contents alone."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
            info.create_system = 3  # Unix, so external_attr holds the mode
            info.external_attr = FILE_MODE << 16
            info.compress_type = zipfile.ZIP_STORED
            archive.writestr(info, files[name])
    return buffer.getvalue()


def function_sources(folder: Path) -> dict[str, bytes]:
    """The files a function ships: its top-level modules, not its tests or package marker."""
    if not (folder / HANDLER_FILE).is_file():
        raise PackagingError(f"{folder} has no {HANDLER_FILE}: each Lambda folder needs one with lambda_handler")
    return {
        path.name: path.read_bytes()
        for path in sorted(folder.glob("*.py"))
        if path.name not in ("__init__.py", "conftest.py") and not path.name.startswith("test_")
    }


def package_function(lambdas_dir: Path, folder: str) -> FunctionPackage:
    """Zip ``lambdas/<folder>/`` in memory."""
    return FunctionPackage(folder, deterministic_zip(function_sources(lambdas_dir / folder)))
