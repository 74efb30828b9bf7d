"""Writes the field app's icons (pwa/icons/*.png) with a tiny pure-Python PNG writer: a calm teal
square with two overlapping circles ("alongside"). Run once: python scripts/make_icons.py"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "pwa" / "icons"
BG = (15, 92, 88)  # #0f5c58, the theme colour
FG = (255, 255, 255)
ACCENT = (246, 200, 95)


def png(width: int, height: int, pixel) -> bytes:
    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter: none
        for x in range(width):
            rows.extend(pixel(x, y))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(bytes(rows), 9)) + chunk(
        b"IEND", b""
    )


def icon(size: int, safe: float) -> bytes:
    """`safe` is the fraction of the canvas the artwork may use (maskable icons keep to the inner 80%)."""
    r = size * safe * 0.22
    cx1, cx2, cy = size * 0.5 - r * 0.55, size * 0.5 + r * 0.55, size * 0.5
    ring = max(2.0, size * 0.035)

    def pixel(x, y):
        px, py = x + 0.5, y + 0.5
        d1 = ((px - cx1) ** 2 + (py - cy) ** 2) ** 0.5
        d2 = ((px - cx2) ** 2 + (py - cy) ** 2) ** 0.5
        if abs(d2 - r) < ring / 2:
            return ACCENT
        if abs(d1 - r) < ring / 2:
            return FG
        return BG

    return png(size, size, pixel)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for size in (192, 512):
        (OUT / f"icon-{size}.png").write_bytes(icon(size, 1.0))
        (OUT / f"maskable-{size}.png").write_bytes(icon(size, 0.8))
    (OUT / "apple-touch-icon.png").write_bytes(icon(180, 0.9))


if __name__ == "__main__":
    main()
