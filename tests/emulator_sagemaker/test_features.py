"""The learner's image features: the shortcuts the serving path takes give the long way's values."""

from __future__ import annotations

import numpy as np
import pytest

from scones.emulator.sagemaker.learner import features


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    rng = np.random.default_rng(7)
    # Smooth colour blobs plus noise: percentiles and gradients that are not all alike.
    base = rng.integers(0, 256, (12, 4, 4, 3)).repeat(8, 1).repeat(8, 2)
    return np.clip(base + rng.normal(0, 20, base.shape), 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def encoder(images: np.ndarray) -> features.PatchEncoder:
    return features.PatchEncoder.fit(images, half=40, samples=2000, rng=np.random.default_rng(0))


def test_colour_percentiles_are_numpy_s(images: np.ndarray) -> None:
    got = features.colour(images).reshape(len(images), -1, features.COLOUR_STATS)
    cells = (
        images.reshape(len(images), 4, 8, 4, 8, 3).transpose(0, 1, 3, 2, 4, 5).reshape(len(images), 16, -1, 3) / 255.0
    )
    expected = np.percentile(cells, [10, 50, 90], axis=2).transpose(1, 2, 0, 3).reshape(len(images), 16, 9)
    four_by_four = got[:, 1 + 4 :]  # after the whole image and the 2x2 grid
    np.testing.assert_allclose(four_by_four[..., 6:], expected, atol=1e-6)
    np.testing.assert_allclose(four_by_four[..., :3], cells.mean(2), atol=1e-6)


@pytest.mark.parametrize("batch", [5, 16], ids=["batches of 5, 5 and 2", "one batch"])
def test_encoding_folds_whitening_into_the_atoms_without_changing_codes(
    images: np.ndarray, encoder, batch: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(features, "BATCH", batch)  # the buffers a batch reuses hold nothing of the last
    windows = np.lib.stride_tricks.sliding_window_view(images.astype(np.float32), (6, 6), axis=(1, 2))[:, ::2, ::2]
    n, h, w = windows.shape[:3]
    response = (
        (features._normalise(windows.reshape(n * h * w, -1)) - encoder.mean) @ encoder.whitening
    ) @ encoder.atoms.T
    codes = np.concatenate(
        [np.maximum(response - features.THRESHOLD, 0), np.maximum(-response - features.THRESHOLD, 0)], 1
    )
    codes = codes.reshape(n, h, w, -1)
    expected = np.stack(
        [
            codes[:, :7, :7].sum((1, 2)),
            codes[:, :7, 7:].sum((1, 2)),
            codes[:, 7:, :7].sum((1, 2)),
            codes[:, 7:, 7:].sum((1, 2)),
        ],
        1,
    )
    got = encoder.encode(images)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-3)
    assert not np.signbit(got).any(), "a code of -0.0 (its square root, a feature, is -0.0 too)"


def test_mirrored_features_are_those_of_the_mirrored_images(images: np.ndarray, encoder) -> None:
    own, mirrored = features.describe(encoder, images)
    of_mirror, mirror_of_mirror = features.describe(encoder, features.mirror(images))
    np.testing.assert_allclose(mirrored, of_mirror, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(mirror_of_mirror, own, rtol=1e-4, atol=1e-4)
    assert not np.allclose(own, mirrored, atol=1e-3)  # the images are not symmetric: a real check
