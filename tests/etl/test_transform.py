from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from scones.errors import UnknownClassError
from scones.etl.cifar import read_cifar_archive
from scones.etl.png import encode_png
from scones.etl.transform import build_manifests, iter_image_files, resolve_classes, rows_to_images
from scones.settings import VEHICLE_CLASSES


def test_resolve_keeps_the_given_order():
    assert resolve_classes(["motorcycle", "bicycle"]) == [48, 8]
    assert resolve_classes([" Bicycle ", "bus"]) == [8, 13]


def test_unknown_class_suggests_the_right_name():
    with pytest.raises(UnknownClassError, match="'motorbike'.*|'bycicle'.*did you mean bicycle"):
        resolve_classes(["bycicle", "motorbike"])


def test_duplicate_and_empty_class_lists_are_rejected():
    with pytest.raises(UnknownClassError, match="twice"):
        resolve_classes(["bicycle", "bicycle"])
    with pytest.raises(UnknownClassError, match="empty"):
        resolve_classes([" "])


def test_rows_to_images_matches_the_documented_layout():
    rows = np.random.default_rng(1).integers(0, 256, (4, 3072), dtype=np.uint8)
    images = rows_to_images(rows)
    for n in range(4):
        for y, x in [(0, 0), (5, 17), (31, 31)]:
            expected = [rows[n, c * 1024 + y * 32 + x] for c in range(3)]  # planes R, G, B row-major
            assert images[n, y, x].tolist() == expected


@pytest.mark.parametrize("shape", [(32, 32, 3), (7, 13, 3), (1, 1, 3)])
def test_png_round_trips_exactly_through_pillow(shape):
    image = np.random.default_rng(2).integers(0, 256, shape, dtype=np.uint8)
    decoded = Image.open(io.BytesIO(encode_png(image)))
    assert decoded.format == "PNG" and decoded.mode == "RGB"
    np.testing.assert_array_equal(np.asarray(decoded), image)


def test_png_rejects_non_rgb():
    with pytest.raises(ValueError):
        encode_png(np.zeros((32, 32), np.uint8))


def test_manifests_label_in_class_order_with_channel_relative_paths(cifar_all_classes: Path):
    classes = ["motorcycle", "bicycle"]
    ids = resolve_classes(classes)
    archive = read_cifar_archive(cifar_all_classes, ids)
    manifests = build_manifests(archive, classes, ids)
    lines = [line.split("\t") for line in manifests.files["train_lst/train.lst"].splitlines()]
    assert [int(index) for index, _, _ in lines] == list(range(6))
    for _, label, path in lines:
        assert path.split("/")[0] == classes[int(label)]  # motorcycle -> 0, bicycle -> 1
        assert not path.startswith("train/")
    labels = json.loads(manifests.files["labels.json"])
    assert labels["classes"] == classes and labels["cifar_fine_label_ids"] == [48, 8]
    assert labels["counts"] == {"train": {"motorcycle": 3, "bicycle": 3}, "validation": {"motorcycle": 1, "bicycle": 1}}


def test_whole_vehicle_set(cifar_all_classes: Path):
    ids = resolve_classes(list(VEHICLE_CLASSES))
    archive = read_cifar_archive(cifar_all_classes, ids)
    files = [f for chunk in iter_image_files(archive, list(VEHICLE_CLASSES), ids) for f in chunk]
    assert len(files) == 10 * 4
    assert {f.key.split("/")[1] for f in files} == set(VEHICLE_CLASSES)
    manifests = build_manifests(archive, list(VEHICLE_CLASSES), ids)
    labels = {int(line.split("\t")[1]) for line in manifests.files["validation_lst/validation.lst"].splitlines()}
    assert labels == set(range(10))


def test_image_files_hold_the_pixels_of_their_rows(cifar_all_classes: Path):
    ids = resolve_classes(["bicycle"])
    archive = read_cifar_archive(cifar_all_classes, ids)
    files = {f.key: f.body for chunk in iter_image_files(archive, ["bicycle"], ids) for f in chunk}
    split = archive.splits["train"]
    for i, name in enumerate(split.filenames):
        decoded = np.asarray(Image.open(io.BytesIO(files[f"train/bicycle/{name}"])))
        np.testing.assert_array_equal(decoded, rows_to_images(split.data[i : i + 1])[0])
