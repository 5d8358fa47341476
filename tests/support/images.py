"""PNG files for tests, written by PIL as ``plt.imsave`` and most clients write them: not by the
product's own encoder, so a test never checks the product's PNGs with the product's code.

The bytes matter to some tests (a transform job split at newlines must cut a PNG into pieces
the model rejects): one writer keeps them the same everywhere.
"""

from __future__ import annotations

import io

import numpy as np


def png(pixels: np.ndarray) -> bytes:
    """An 8-bit RGB PNG of an ``(height, width, 3)`` uint8 array."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.asarray(pixels, dtype=np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def solid_png(width: int = 2, height: int = 2, color: tuple[int, int, int] = (128, 64, 32)) -> bytes:
    """A PNG of one colour."""
    return png(np.full((height, width, 3), color, dtype=np.uint8))
