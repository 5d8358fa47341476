"""Test data: the shared CIFAR-100 bikes tarball as arrays, and written to S3 in the ETL's layout.

Deliberately independent of ``scones.etl`` (developed separately): a few lines of
``tarfile`` + a numpy-only unpickler + the tests' own PNG writer, writing what ``docs/dataset-layout.md`` says
training reads.
"""

from __future__ import annotations

import io
import pickle
import tarfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tests.support.images import png

CLASSES = {8: "bicycle", 48: "motorcycle"}  # CIFAR-100 fine label id -> name; labels 0, 1 in this order
_ARRAY_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("_codecs", "encode"),
}


class _ArrayUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> object:
        if (module, name) not in _ARRAY_GLOBALS:
            raise pickle.UnpicklingError(f"refusing {module}.{name} in a CIFAR pickle")
        return super().find_class(module, name)


@dataclass(frozen=True)
class Split:
    images: np.ndarray  # (N, 32, 32, 3) uint8
    labels: np.ndarray  # (N,) 0 = bicycle, 1 = motorcycle
    filenames: list[str]

    def take(self, per_class: int) -> Split:
        """The first ``per_class`` images of each class."""
        index = np.concatenate([np.flatnonzero(self.labels == c)[:per_class] for c in range(len(CLASSES))])
        return Split(self.images[index], self.labels[index], [self.filenames[i] for i in index])


def read_split(tarball: Path, split: str) -> Split:
    with tarfile.open(tarball) as tar:
        member = tar.extractfile(f"cifar-100-python/{split}")
        assert member is not None
        raw = _ArrayUnpickler(io.BytesIO(member.read()), encoding="bytes").load()
    fine = np.asarray(raw[b"fine_labels"])
    keep = np.isin(fine, list(CLASSES))
    images = np.asarray(raw[b"data"], np.uint8)[keep].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    labels = np.searchsorted(sorted(CLASSES), fine[keep])
    names = [n.decode() for n, k in zip(raw[b"filenames"], keep, strict=True) if k]
    return Split(np.ascontiguousarray(images), labels, names)


def write_channel(s3, bucket: str, prefix: str, channel: str, split: Split) -> None:
    """``<prefix>/<channel>/<class>/<file>.png`` and ``<prefix>/<channel>_lst/<channel>.lst``."""
    lines = []
    names = list(CLASSES.values())
    for index, (image, label, filename) in enumerate(zip(split.images, split.labels, split.filenames, strict=True)):
        relative = f"{names[label]}/{filename}"
        s3.put_object(Bucket=bucket, Key=f"{prefix}/{channel}/{relative}", Body=png(image))
        lines.append(f"{index}\t{label}\t{relative}")
    s3.put_object(Bucket=bucket, Key=f"{prefix}/{channel}_lst/{channel}.lst", Body="\n".join(lines) + "\n")


def channels(
    bucket: str, prefix: str, names: tuple[str, ...] = ("train", "validation", "train_lst", "validation_lst")
) -> list[dict]:
    return [
        {
            "ChannelName": name,
            "DataSource": {
                "S3DataSource": {
                    "S3DataType": "S3Prefix",
                    "S3Uri": f"s3://{bucket}/{prefix}/{name}/",
                    "S3DataDistributionType": "FullyReplicated",
                }
            },
            "ContentType": "application/x-image",
            "CompressionType": "None",
        }
        for name in names
    ]
