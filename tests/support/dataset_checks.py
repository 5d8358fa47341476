"""Checks of a published dataset version, for the tests that publish in-process and across processes."""

from __future__ import annotations

from scones.datasets import resolve_dataset
from scones.layout import DatasetLayout


def assert_consistent(s3, layout: DatasetLayout) -> dict:
    """The pointer names one complete version whose manifests, images and labels.json agree."""
    pinned = resolve_dataset(s3, layout)
    labels = pinned.labels
    for channel in ("train", "validation"):
        lst = (
            s3.get_object(Bucket=layout.bucket, Key=layout.manifest_key(pinned.version, channel))["Body"]
            .read()
            .decode()
        )
        lines = [line.split("\t") for line in lst.splitlines()]
        assert len(lines) == sum(labels["counts"][channel].values())
        for _, label, path in lines:
            assert path.split("/")[0] == labels["classes"][int(label)], "a manifest line from another run's classes"
            s3.head_object(Bucket=layout.bucket, Key=pinned.key(f"{channel}/{path}"))
    return labels
