from __future__ import annotations

import gzip
import io
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest

from scones.errors import CorruptArchive
from scones.etl.cifar import CIFAR100_FINE_LABELS, read_cifar_archive


def test_reads_every_split_and_all_100_label_names(cifar_all_classes: Path):
    archive = read_cifar_archive(cifar_all_classes)
    assert archive.label_names == CIFAR100_FINE_LABELS
    assert len(archive.splits["train"]) == 300 and len(archive.splits["test"]) == 100
    assert set(archive.splits["train"].fine_labels.tolist()) == set(range(100))


def test_keeps_only_wanted_labels(cifar_all_classes: Path):
    archive = read_cifar_archive(cifar_all_classes, [8, 48])
    train = archive.splits["train"]
    assert sorted(set(train.fine_labels.tolist())) == [8, 48] and len(train) == 6
    assert all(name.startswith(("bicycle_", "motorcycle_")) for name in train.filenames)


def test_label_names_match_the_real_subset(shared_tarball: Path):
    archive = read_cifar_archive(shared_tarball, [8, 48])
    assert archive.label_names == CIFAR100_FINE_LABELS
    assert len(archive.splits["train"]) == 1000 and len(archive.splits["test"]) == 200


def test_truncated_archive(cifar_all_classes: Path, tmp_path: Path):
    broken = tmp_path / "truncated.tar.gz"
    broken.write_bytes(cifar_all_classes.read_bytes()[: cifar_all_classes.stat().st_size // 2])
    with pytest.raises(CorruptArchive, match="truncated or corrupt"):
        read_cifar_archive(broken)


def test_not_a_gzip_file(tmp_path: Path):
    bogus = tmp_path / "x.tar.gz"
    bogus.write_bytes(b"<html>404 not found</html>")
    with pytest.raises(CorruptArchive):
        read_cifar_archive(bogus)


def _tarball(tmp_path: Path, members: dict[str, bytes]) -> Path:
    path = tmp_path / "custom.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for name, raw in members.items():
            info = tarfile.TarInfo(f"cifar-100-python/{name}")
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
    return path


def test_missing_member_is_named(tmp_path: Path):
    meta = pickle.dumps({b"fine_label_names": [n.encode() for n in CIFAR100_FINE_LABELS]})
    with pytest.raises(CorruptArchive, match="no member.*train.*test"):
        read_cifar_archive(_tarball(tmp_path, {"meta": meta}))


class _RunsCode:
    def __reduce__(self):
        import os

        return (os.system, ("touch pwned",))


def test_a_pickle_that_would_run_code_is_refused(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CorruptArchive, match="refusing to load"):
        read_cifar_archive(_tarball(tmp_path, {"meta": pickle.dumps(_RunsCode())}))
    assert not (tmp_path / "pwned").exists()


def test_wrong_array_shape_is_reported(tmp_path: Path):
    meta = pickle.dumps({b"fine_label_names": [n.encode() for n in CIFAR100_FINE_LABELS]})
    bad = pickle.dumps({b"data": np.zeros((2, 10), np.uint8), b"fine_labels": [1, 2], b"filenames": [b"a", b"b"]})
    with pytest.raises(CorruptArchive, match="shape"):
        read_cifar_archive(_tarball(tmp_path, {"meta": meta, "train": bad, "test": bad}))


def test_gzip_of_plain_bytes_is_not_a_tar(tmp_path: Path):
    path = tmp_path / "x.tar.gz"
    path.write_bytes(gzip.compress(b"hello" * 1000))
    with pytest.raises(CorruptArchive):
        read_cifar_archive(path)
