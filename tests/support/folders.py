"""Folders the tests' PostgreSQL servers can use."""

from __future__ import annotations

import tempfile
from pathlib import Path


def postgres_usable_folder(prefix: str) -> Path:
    """A new folder PostgreSQL can use when the tests run as root (it then runs as 'nobody', who
    must enter it; pytest's own temporary folders are private to their owner). The caller removes it."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o711)
    return path
