"""Write CIFAR-100 archives in the official "python version" layout, for tests and benchmarks.

The official archive is unreachable offline; these files have the same members, keys,
dtypes and label names, with random pixels. They are pickled as Python 2's cPickle wrote the
official file (protocol 2, byte strings as BINSTRING): Python 3's own protocol 2 routes
bytes through ``_codecs.encode``, which unpickles ten times slower and would skew benchmarks.
"""

from __future__ import annotations

import io
import pickle
import tarfile
from pathlib import Path

import numpy as np

from scones.etl.cifar import CIFAR100_FINE_LABELS

COARSE_NAMES = [f"coarse_{i}" for i in range(20)]


class _Py2Pickler(pickle._Pickler):  # the pure-Python pickler, whose dispatch can be changed
    dispatch = pickle._Pickler.dispatch.copy()

    def save_bytes_as_py2_str(self, obj: bytes) -> None:
        size = len(obj)
        if size < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([size]) + obj)
        else:
            self.write(pickle.BINSTRING + size.to_bytes(4, "little") + obj)
        self.memoize(obj)

    dispatch[bytes] = save_bytes_as_py2_str


def _member(tar: tarfile.TarFile, name: str, obj: object) -> None:
    buffer = io.BytesIO()
    _Py2Pickler(buffer, protocol=2).dump(obj)
    raw = buffer.getvalue()
    info = tarfile.TarInfo(f"cifar-100-python/{name}")
    info.size = len(raw)
    tar.addfile(info, io.BytesIO(raw))


def _split(rng: np.random.Generator, per_class: int, labels: list[int], prefix: str) -> dict[bytes, object]:
    fine = np.repeat(np.asarray(labels), per_class)
    rng.shuffle(fine)
    n = len(fine)
    # Smooth-ish pixels (a gradient plus noise) compress like photos, unlike pure noise.
    base = np.linspace(0, 200, 3072, dtype=np.float32)
    data = np.clip(base + rng.normal(0, 25, (n, 3072)), 0, 255).astype(np.uint8)
    return {
        b"filenames": [f"{CIFAR100_FINE_LABELS[f]}_{prefix}_{i:06d}.png".encode() for i, f in enumerate(fine)],
        b"batch_label": f"{prefix} batch 1 of 1".encode(),
        b"fine_labels": [int(f) for f in fine],
        b"coarse_labels": [int(f) // 5 for f in fine],
        b"data": data,
    }


def write_cifar_archive(
    path: Path,
    train_per_class: int = 5,
    test_per_class: int = 1,
    labels: list[int] | None = None,
    seed: int = 0,
    compresslevel: int = 6,
) -> Path:
    """Write ``cifar-100-python.tar.gz`` with the given images per class.

    :param labels: fine label ids present (default: all 100). Full size is 500 and 100.
    """
    rng = np.random.default_rng(seed)
    labels = list(range(100)) if labels is None else labels
    with tarfile.open(path, "w:gz", compresslevel=compresslevel) as tar:
        _member(
            tar,
            "meta",
            {
                b"fine_label_names": [n.encode() for n in CIFAR100_FINE_LABELS],
                b"coarse_label_names": [n.encode() for n in COARSE_NAMES],
            },
        )
        _member(tar, "train", _split(rng, train_per_class, labels, "train"))
        _member(tar, "test", _split(rng, test_per_class, labels, "test"))
    return path
