"""Image features that a linear classifier can separate: learned patches, gradients, colour.

Three complementary descriptors of a 32x32 RGB image, concatenated:

- **Patch encoding** (Coates & Ng, "An Analysis of Single-Layer Networks in Unsupervised
  Feature Learning", AISTATS 2011; and "The Importance of Encoding Versus Training", ICML
  2011). A dictionary of whitened 6x6 patches sampled from the training images, each
  patch of the image (stride 2) encoded by soft thresholding its correlation with every
  atom, in both polarities, then summed over the four image quadrants. The dictionary is
  *mirror-closed* (every atom comes with its left-right mirror) and the whitening is
  estimated on mirrored patches too, so the features of a mirrored image are an exact
  permutation of the image's own: flip augmentation and test-time flips cost nothing.
- **HOG**: histograms of gradient orientation in 4x4-pixel cells, block-normalised.
- **Colour**: per-channel mean, spread and percentiles, over the image and a 2x2 and 4x4 grid.

Everything here is numpy; arrays are float32. ``PatchEncoder.to_arrays`` /
``from_arrays`` round-trip the fitted state for the model artifact (no pickle).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

IMAGE_SIZE = 32  # the learner's working resolution; other sizes are resized on decode
PATCH = 6
STRIDE = 2
THRESHOLD = 0.25  # soft-threshold level (alpha in Coates & Ng 2011)
CONTRAST_EPS = 10.0  # brightness/contrast normalisation of a patch, on 0..255 pixels
WHITEN_EPS = 0.1  # ZCA regulariser, for normalised patches
BATCH = 16  # images encoded at once: two buffers of 20 MB at 1600 atoms


def mirror(images: np.ndarray) -> np.ndarray:
    """Left-right mirror of ``(N, H, W, 3)`` images."""
    return images[:, :, ::-1]


def _mirror_patches(patches: np.ndarray) -> np.ndarray:
    """Mirror flattened channel-major ``(..., 3*P*P)`` patches left-right."""
    shape = patches.shape
    return patches.reshape(*shape[:-1], 3, PATCH, PATCH)[..., ::-1].reshape(shape)


def _normalise(patches: np.ndarray) -> np.ndarray:
    patches = patches - patches.mean(-1, keepdims=True)
    return patches / np.sqrt(patches.var(-1, keepdims=True) + CONTRAST_EPS)


@dataclass
class PatchEncoder:
    """Whitening and a mirror-closed dictionary of ``2 * half`` unit-norm atoms."""

    mean: np.ndarray  # (3*P*P,)
    whitening: np.ndarray  # (3*P*P, 3*P*P), symmetric
    atoms: np.ndarray  # (2*half, 3*P*P): atoms[half + i] is the mirror of atoms[i]

    @classmethod
    def fit(cls, images: np.ndarray, half: int, samples: int, rng: np.random.Generator) -> PatchEncoder:
        """Sample ``samples`` patches of ``images`` and pick ``half`` of them as atoms (plus mirrors)."""
        n, size = len(images), images.shape[1]
        which = rng.integers(0, n, samples)
        rows, cols = rng.integers(0, size - PATCH + 1, (2, samples))
        windows = sliding_window_view(images, (PATCH, PATCH), axis=(1, 2))  # N, h, w, 3, P, P (a view)
        patches = _normalise(windows[which, rows, cols].reshape(samples, -1).astype(np.float32))
        # Statistics of patches and their mirrors: the whitening then commutes with mirroring.
        both = np.concatenate([patches, _mirror_patches(patches)])
        mean = both.mean(0)
        eigenvalues, eigenvectors = np.linalg.eigh(np.cov(both - mean, rowvar=False))
        whitening = (eigenvectors / np.sqrt(eigenvalues + WHITEN_EPS)) @ eigenvectors.T
        chosen = (patches[rng.choice(samples, half, replace=False)] - mean) @ whitening
        atoms = np.concatenate([chosen, _mirror_patches(chosen)])
        atoms /= np.linalg.norm(atoms, axis=1, keepdims=True) + 1e-8
        return cls(mean.astype(np.float32), whitening.astype(np.float32), atoms.astype(np.float32))

    @cached_property
    def _projection(self) -> tuple[np.ndarray, np.ndarray]:
        """Whitening and correlation with the atoms folded into one map, and its offset.

        ``((p - mean) @ whitening) @ atoms.T == p @ projection - offset``: one matrix
        product per patch instead of two.
        """
        projection = (self.whitening @ self.atoms.T).astype(np.float32)
        return projection, (self.mean @ projection).astype(np.float32)

    def encode(self, images: np.ndarray) -> np.ndarray:
        """Quadrant-pooled codes, shape ``(N, 4, 2*atoms)``, in quadrant order TL, TR, BL, BR.

        The responses of a batch (patches x atoms, 20 MB) are written into two buffers made
        once, never into temporaries: fresh arrays that size cost a page fault per 4 KB each
        time, and the element-wise passes then took longer than the matrix product
        (tests/emulator_sagemaker/test_features.py pins the codes to the plain formula).
        """
        projection, offset = self._projection
        k = len(self.atoms)
        out = np.empty((len(images), 4, 2 * k), np.float32)
        buffers = None
        for start in range(0, len(images), BATCH):
            batch = images[start : start + BATCH].astype(np.float32)
            windows = sliding_window_view(batch, (PATCH, PATCH), axis=(1, 2))[:, ::STRIDE, ::STRIDE]
            n, h, w = windows.shape[:3]  # h and w are even for 32x32 at stride 2: pooling is symmetric
            if buffers is None:  # sized by the first batch, the largest
                buffers = np.empty((2, n * h * w, k), np.float32)
            response, codes = buffers[0, : n * h * w], buffers[1, : n * h * w]
            np.matmul(_normalise(windows.reshape(n * h * w, -1)), projection, out=response)
            response -= offset
            np.maximum(np.subtract(response, THRESHOLD, out=codes), 0, out=codes)  # max(r - t, 0)
            np.minimum(np.add(response, THRESHOLD, out=response), 0, out=response)  # -max(-r - t, 0)
            quadrants = (n, 2, h // 2, 2, w // 2, k)  # summed over axes 2 and 4: TL, TR, BL, BR
            out[start : start + n, :, :k] = codes.reshape(quadrants).sum((2, 4)).reshape(n, 4, k)
            # 0 - x, not -x: +0.0 where no negative response fired, as max(-r - t, 0) summed gives
            out[start : start + n, :, k:] = 0.0 - response.reshape(quadrants).sum((2, 4)).reshape(n, 4, k)
        return out

    def mirror_codes(self, codes: np.ndarray) -> np.ndarray:
        """The codes the mirrored images would get: swap left/right quadrants and mirror atoms."""
        k = len(self.atoms)
        half = k // 2
        atom_mirror = np.r_[half:k, 0:half]
        order = np.r_[atom_mirror, atom_mirror + k]  # both polarities
        return codes[:, [1, 0, 3, 2]][:, :, order]

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        return {f"{prefix}mean": self.mean, f"{prefix}whitening": self.whitening, f"{prefix}atoms": self.atoms}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], prefix: str) -> PatchEncoder:
        return cls(arrays[f"{prefix}mean"], arrays[f"{prefix}whitening"], arrays[f"{prefix}atoms"])


def hog(images: np.ndarray, cell: int = 4, bins: int = 9) -> np.ndarray:
    """Dalal-Triggs HOG (unsigned orientations, 2x2-cell blocks, L2-Hys), ``(N, 7*7*36)``."""
    x = images.astype(np.float32)
    gx = np.zeros_like(x)
    gy = np.zeros_like(x)
    gx[:, :, 1:-1] = x[:, :, 2:] - x[:, :, :-2]
    gy[:, 1:-1] = x[:, 2:] - x[:, :-2]
    magnitude = np.hypot(gx, gy)
    strongest = magnitude.argmax(-1)[..., None]  # per pixel, the channel with the strongest edge
    m = np.take_along_axis(magnitude, strongest, -1)[..., 0]
    angle = np.arctan2(np.take_along_axis(gy, strongest, -1)[..., 0], np.take_along_axis(gx, strongest, -1)[..., 0])
    index = ((angle % np.pi) / np.pi * bins).astype(np.int64) % bins
    n, size = len(x), x.shape[1]
    cells = size // cell
    histograms = (np.eye(bins, dtype=np.float32)[index] * m[..., None]).reshape(n, cells, cell, cells, cell, bins)
    histograms = histograms.sum((2, 4))
    blocks = np.concatenate(
        [histograms[:, :-1, :-1], histograms[:, 1:, :-1], histograms[:, :-1, 1:], histograms[:, 1:, 1:]], -1
    )
    blocks /= np.sqrt((blocks**2).sum(-1, keepdims=True) + 1e-3)
    blocks = np.minimum(blocks, 0.2)
    blocks /= np.sqrt((blocks**2).sum(-1, keepdims=True) + 1e-3)
    return blocks.reshape(n, -1)


COLOUR_GRIDS = (1, 2, 4)
COLOUR_STATS = 15  # per channel: mean, spread, 10th, 50th and 90th percentile


def colour(images: np.ndarray, grids: tuple[int, ...] = COLOUR_GRIDS) -> np.ndarray:
    """Per-channel mean, spread and 10/50/90th percentiles over the whole image and each cell
    of a 2x2 and a 4x4 grid: where the colours are matters (a painted tank, a dark frame).

    ``(N, 15 * (1 + 4 + 16))``, grid by grid, cells in row-major order. The percentiles are
    numpy's default (linear) ones, read off one sort per grid: ``np.percentile`` cost more
    than the rest of the serving path's features together.
    """
    n, size = len(images), images.shape[1]
    parts = []
    for grid in grids:
        step = size // grid
        # (N, cells, pixels, 3) in row-major cell order
        cells = images.reshape(n, grid, step, grid, step, 3).transpose(0, 1, 3, 2, 4, 5).reshape(n, grid * grid, -1, 3)
        cells = np.sort(cells, axis=2).astype(np.float32) / 255.0
        last = cells.shape[2] - 1
        percentiles = []
        for q in (10, 50, 90):
            low, weight = divmod(q / 100 * last, 1.0)
            below, above = cells[:, :, int(low)], cells[:, :, min(int(low) + 1, last)]
            percentiles.append(below + (above - below) * np.float32(weight))
        parts.append(np.concatenate([cells.mean(2), cells.std(2), *percentiles], 2).reshape(n, -1))
    return np.concatenate(parts, 1).astype(np.float32)


def mirror_colour(features: np.ndarray, grids: tuple[int, ...] = COLOUR_GRIDS) -> np.ndarray:
    """The :func:`colour` features of the mirrored images: each grid's cells, columns reversed."""
    parts, start = [], 0
    for grid in grids:
        width = grid * grid * COLOUR_STATS
        block = features[:, start : start + width].reshape(len(features), grid, grid, COLOUR_STATS)
        parts.append(block[:, :, ::-1].reshape(len(features), -1))
        start += width
    return np.concatenate(parts, 1)


def describe(encoder: PatchEncoder, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Features of ``images`` and of their mirrors: ``(features, mirrored_features)``.

    Patch codes are power-normalised (square root), which evens out how often atoms fire.
    """
    codes = encoder.encode(images)
    colours = colour(images)
    rest = np.concatenate([hog(images), colours], 1)
    rest_mirrored = np.concatenate([hog(mirror(images)), mirror_colour(colours)], 1)
    flat = lambda c: np.sqrt(c).reshape(len(c), -1)  # noqa: E731 - a one-line helper, local to this function
    return (
        np.concatenate([flat(codes), rest], 1),
        np.concatenate([flat(encoder.mirror_codes(codes)), rest_mirrored], 1),
    )
