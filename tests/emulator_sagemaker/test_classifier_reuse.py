"""A fit on images an earlier fit described reuses that description, and trains the model a fit
from scratch would: the reuse saves time, never changes a model."""

from __future__ import annotations

import numpy as np
import pytest

from scones.emulator.sagemaker.learner import ImageClassifier, SGDSettings, classifier


def blobs(seed: int, n: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (n, 4, 4, 3)).repeat(8, 1).repeat(8, 2)
    return np.clip(base + rng.normal(0, 20, base.shape), 0, 255).astype(np.uint8)


TRAIN, VALIDATION = blobs(1, 24), blobs(2, 8)
LABELS, VALIDATION_LABELS = np.arange(24) % 2, np.arange(8) % 2


@pytest.fixture
def counted(monkeypatch) -> list[int]:
    """A fresh cache, and how many dictionaries were drawn (one per description computed)."""
    monkeypatch.setattr(classifier, "_DESCRIBED", type(classifier._DESCRIBED)())
    drawn = []
    fit = classifier.PatchEncoder.fit.__func__

    def counting(cls, *args, **kwargs):
        drawn.append(1)
        return fit(cls, *args, **kwargs)

    monkeypatch.setattr(classifier.PatchEncoder, "fit", classmethod(counting))
    return drawn


def fit(epochs: int, images: np.ndarray = TRAIN, seed: int = 0) -> tuple[ImageClassifier, list[str]]:
    lines: list[str] = []
    model = ImageClassifier.fit(
        images,
        LABELS,
        2,
        SGDSettings(epochs=epochs, mini_batch_size=8),
        validation=(VALIDATION, VALIDATION_LABELS),
        seed=seed,
        say=lines.append,
    )
    return model, lines


def same_model(a: ImageClassifier, b: ImageClassifier) -> None:
    np.testing.assert_array_equal(a.head.weights, b.head.weights)
    np.testing.assert_array_equal(a.head.bias, b.head.bias)
    np.testing.assert_array_equal(a.encoder.atoms, b.encoder.atoms)


def test_the_same_images_are_described_once_and_the_model_is_what_a_fresh_fit_makes(counted) -> None:
    fit(epochs=2)
    reused, lines = fit(epochs=3)  # another hyperparameter: the description does not depend on it
    assert counted == [1]
    assert any(line.startswith("Reused the description of these 24 training images") for line in lines), lines
    classifier._DESCRIBED.clear()
    fresh, lines = fit(epochs=3)
    assert counted == [1, 1] and not any(line.startswith("Reused") for line in lines)
    same_model(reused, fresh)


def test_other_images_or_another_seed_are_described_anew(counted) -> None:
    fit(epochs=1)
    fit(epochs=1, images=blobs(3, 24))
    fit(epochs=1, seed=5)
    assert counted == [1, 1, 1]
    fit(epochs=1, seed=5)
    assert counted == [1, 1, 1]


def test_what_later_fits_share_cannot_be_written(counted) -> None:
    fit(epochs=1)
    (described,) = classifier._DESCRIBED.values()
    with pytest.raises(ValueError, match="read-only"):
        described.white_train[0, 0] = 1.0
