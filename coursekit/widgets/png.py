"""Fast PNG encoding for the live explorers: no row filters, zlib level 1."""

from __future__ import annotations

import struct
import zlib

import numpy as np

__all__ = ["encode_png", "encode_png_indexed"]


def encode_png(rgba: np.ndarray, level: int = 1) -> bytes:
    """Encode an (H, W, 4) uint8 RGBA image as a PNG, fast.

    PIL always runs PNG's adaptive row filters, which cost about half of a live frame here; a
    plot of flat colours compresses as well without them. So: filter type 0 on every row, then
    zlib at ``level`` 1. Alpha is kept: dropping it is a strided copy that costs more than
    compressing the constant extra byte. Any PNG reader decodes it (tests compare through PIL).
    The LeakyReLU-slope and temperature explorers send their blitted canvases through it.
    """
    rgba = np.asarray(rgba)
    if rgba.dtype != np.uint8 or rgba.ndim != 3 or rgba.shape[2] != 4:
        raise ValueError(f"rgba must be an (H, W, 4) uint8 image; got {rgba.dtype} {rgba.shape}")
    height, width = rgba.shape[:2]
    rows = np.zeros((height, 1 + 4 * width), dtype=np.uint8)  # leading 0 per row: "no filter"
    rows[:, 1:] = rgba.reshape(height, 4 * width)
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA, no interlace
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header)
            + _png_chunk(b"IDAT", zlib.compress(rows, level)) + _png_chunk(b"IEND", b""))


def encode_png_indexed(indices: np.ndarray, palette: np.ndarray, level: int = 1) -> bytes:
    """Encode an (H, W) uint8 image of palette indices with its (K, 3) uint8 RGB palette as a PNG.

    A palette image is a quarter of the bytes of RGBA, so a quarter of the compression work:
    the explorer's frames use it. Row filter 0 and zlib ``level`` as in :func:`encode_png`.
    """
    indices, palette = np.asarray(indices), np.asarray(palette)
    if indices.dtype != np.uint8 or indices.ndim != 2:
        raise ValueError(f"indices must be an (H, W) uint8 image; got {indices.dtype} {indices.shape}")
    if palette.dtype != np.uint8 or palette.ndim != 2 or palette.shape[1] != 3 or not 1 <= len(palette) <= 256:
        raise ValueError(f"palette must be (K, 3) uint8 with 1 <= K <= 256; got {palette.dtype} {palette.shape}")
    if indices.size and int(indices.max()) >= len(palette):
        raise ValueError(f"indices go up to {int(indices.max())} but the palette has {len(palette)} colours")
    height, width = indices.shape
    rows = np.zeros((height, 1 + width), dtype=np.uint8)  # leading 0 per row: "no filter"
    rows[:, 1:] = indices
    header = struct.pack(">IIBBBBB", width, height, 8, 3, 0, 0, 0)  # 8-bit palette, no interlace
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"PLTE", palette.tobytes())
            + _png_chunk(b"IDAT", zlib.compress(rows, level)) + _png_chunk(b"IEND", b""))


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(data, zlib.crc32(kind)))
