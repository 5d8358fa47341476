"""A minimal, exact PNG writer for 8-bit RGB images.

CIFAR images are 32x32, so per-image overhead dominates: building the chunks directly and
deflating with ISA-L is about 5x faster than Pillow's encoder, and the output is a
standard PNG (Pillow and every browser read it back pixel for pixel; the tests check).
"""

from __future__ import annotations

import struct
import zlib

import numpy as np
from isal import isal_zlib

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_IEND = struct.pack(">I", 0) + b"IEND" + struct.pack(">I", zlib.crc32(b"IEND"))


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def encode_png(image: np.ndarray, level: int = 1) -> bytes:
    """Encode an (H, W, 3) uint8 array as PNG (filter type 0 on every row).

    :param level: ISA-L deflate level 0-3; 1 is the speed/size sweet spot for 32x32 photos.
    """
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) uint8 array, got {image.dtype} {image.shape}")
    height, width, _ = image.shape
    rows = np.zeros((height, width * 3 + 1), dtype=np.uint8)  # column 0: filter byte 0
    rows[:, 1:] = image.reshape(height, width * 3)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit truecolour
    return b"".join(
        (_SIGNATURE, _chunk(b"IHDR", header), _chunk(b"IDAT", isal_zlib.compress(rows.tobytes(), level)), _IEND)
    )
