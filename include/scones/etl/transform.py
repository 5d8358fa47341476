"""Transform: CIFAR rows to PNG files and SageMaker ``.lst`` manifests.

Layout (see docs/dataset-layout.md): the train split goes to the ``train`` channel, the
test split to ``validation``; each image at ``<channel>/<class>/<cifar filename>``; labels
``0..K-1`` in the order of the class list.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from scones.errors import EmptyClassError, UnknownClassError
from scones.etl.cifar import CIFAR100_FINE_LABELS, CifarArchive, Split
from scones.etl.png import encode_png
from scones.layout import CHANNEL_OF_SPLIT, LABELS_FILE, MANIFESTS

ENCODE_CHUNK = 512  # images per work item: big enough to amortise, small enough to stream


def resolve_classes(names: Sequence[str], label_names: Sequence[str] = CIFAR100_FINE_LABELS) -> list[int]:
    """Map class names to CIFAR fine label ids, in the given order.

    :raises UnknownClassError: with the closest valid names, for any name not in the dataset.
    """
    cleaned = [n.strip().lower() for n in names if n.strip()]
    problems = []
    for name in cleaned:
        if name not in label_names:
            close = difflib.get_close_matches(name, label_names, n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            problems.append(f"{name!r}{hint}")
    if problems:
        raise UnknownClassError(
            f"unknown CIFAR-100 class {', '.join(problems)}; classes are fine label names such "
            "as bicycle, motorcycle, bus, pickup_truck, train, lawn_mower, rocket, streetcar, "
            "tank, tractor"
        )
    if len(set(cleaned)) != len(cleaned):
        raise UnknownClassError(f"class list {cleaned} names a class twice")
    if not cleaned:
        raise UnknownClassError("the class list is empty")
    return [label_names.index(n) for n in cleaned]


def rows_to_images(data: np.ndarray) -> np.ndarray:
    """(N, 3072) planar rows -> (N, 32, 32, 3) interleaved RGB, in one vectorised step."""
    return np.ascontiguousarray(data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))


@dataclass(frozen=True)
class ImageFile:
    key: str  # relative to the dataset prefix: "train/bicycle/bicycle_s_000017.png"
    body: bytes


@dataclass(frozen=True)
class Manifests:
    """The small files published after the images: ``{relative key: text}``."""

    files: dict[str, str]
    counts: dict[str, dict[str, int]]  # channel -> class -> images


def _split_entries(split: Split, classes: list[str], label_ids: list[int], channel: str):
    label_of = {fine: i for i, fine in enumerate(label_ids)}
    labels = [label_of[int(f)] for f in split.fine_labels]
    paths = [f"{classes[lab]}/{name}" for lab, name in zip(labels, split.filenames, strict=True)]
    if len(set(paths)) != len(paths):
        raise UnknownClassError(f"the {channel} split has duplicate file names; cannot lay it out")
    return labels, paths


def build_manifests(archive: CifarArchive, classes: list[str], label_ids: list[int]) -> Manifests:
    """``.lst`` manifests (index, label, path relative to the channel) and ``labels.json``."""
    files: dict[str, str] = {}
    counts: dict[str, dict[str, int]] = {}
    for split_name, channel in CHANNEL_OF_SPLIT.items():
        labels, paths = _split_entries(archive.splits[split_name], classes, label_ids, channel)
        files[MANIFESTS[channel]] = "".join(
            f"{i}\t{label}\t{path}\n" for i, (label, path) in enumerate(zip(labels, paths, strict=True))
        )
        counts[channel] = {c: labels.count(i) for i, c in enumerate(classes)}
    check_no_empty_class(counts)
    files[LABELS_FILE] = json.dumps(
        {
            "classes": classes,
            "cifar_fine_label_ids": label_ids,
            "channels": {ch: f"{ch}/" for ch in CHANNEL_OF_SPLIT.values()},
            "manifests": dict(MANIFESTS),
            "counts": counts,
        },
        indent=2,
    )
    return Manifests(files, counts)


def check_no_empty_class(counts: dict[str, dict[str, int]]) -> None:
    """A class with no images would train a model that can never predict it: refuse the dataset.

    :raises EmptyClassError: naming each class and the channel it is missing from.
    """
    empty = [
        f"{name!r} ({channel})" for channel, per_class in counts.items() for name, n in per_class.items() if n == 0
    ]
    if empty:
        raise EmptyClassError(
            f"the archive has no images of {', '.join(empty)}: nothing was uploaded or published. "
            "Check the source is the full CIFAR-100 archive (the offline subset has only bicycle and "
            "motorcycle), or ask for classes it has"
        )


def iter_image_files(
    archive: CifarArchive, classes: list[str], label_ids: list[int], workers: int = 2
) -> Iterator[list[ImageFile]]:
    """Yield the PNG files chunk by chunk, encoded by ``workers`` threads.

    At most ``2 * workers`` chunks are in flight, so memory stays bounded however many images
    there are (ISA-L's deflate releases the GIL, so threads use both cores).
    """
    jobs: list[tuple[str, list[str], np.ndarray]] = []
    for split_name, channel in CHANNEL_OF_SPLIT.items():
        split = archive.splits[split_name]
        _, paths = _split_entries(split, classes, label_ids, channel)
        for start in range(0, len(split), ENCODE_CHUNK):
            jobs.append((channel, paths[start : start + ENCODE_CHUNK], split.data[start : start + ENCODE_CHUNK]))

    def encode(job: tuple[str, list[str], np.ndarray]) -> list[ImageFile]:
        channel, paths, rows = job
        return [
            ImageFile(f"{channel}/{p}", encode_png(img)) for p, img in zip(paths, rows_to_images(rows), strict=True)
        ]

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="png") as pool:
        pending = []
        for job in jobs:
            pending.append(pool.submit(encode, job))
            if len(pending) >= 2 * workers:
                yield pending.pop(0).result()
        for future in pending:
            yield future.result()
