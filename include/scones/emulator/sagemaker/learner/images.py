"""Bytes of an image file to the ``(32, 32, 3)`` uint8 array the learner works on."""

from __future__ import annotations

import io

import numpy as np

from scones.emulator.sagemaker.learner.features import IMAGE_SIZE

MAX_PIXELS = 4096 * 4096  # refuse decompression bombs before decoding them


class UndecodableImage(ValueError):
    """The bytes are not an image PIL can read (or one far too large)."""


def decode_image(data: bytes) -> np.ndarray:
    """Decode PNG, JPEG or any format PIL reads; convert to RGB; resize to 32x32 if needed."""
    from PIL import Image, UnidentifiedImageError

    if not data:
        raise UndecodableImage("the payload is empty")
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise UndecodableImage(f"a {width}x{height} image is larger than the {MAX_PIXELS} pixels accepted")
            rgb = image.convert("RGB")
            if rgb.size != (IMAGE_SIZE, IMAGE_SIZE):
                rgb = rgb.resize((IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.BILINEAR)
            return np.asarray(rgb, dtype=np.uint8)
    except UndecodableImage:
        raise
    except UnidentifiedImageError:
        raise UndecodableImage(f"not a PNG, JPEG or other image format (it starts {data[:16]!r})") from None
    except (OSError, ValueError, Image.DecompressionBombError) as exc:  # truncated or corrupt image data
        raise UndecodableImage(f"cannot decode the payload as an image ({type(exc).__name__}: {exc})") from None
