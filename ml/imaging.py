"""Decode any supported image into an upright RGB picture."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageOps


class ImageError(ValueError):
    """The input is not a decodable image."""


def open_image(source: Image.Image | bytes | str | Path) -> Image.Image:
    """Return an RGB image: EXIF rotation applied, first frame, alpha flattened on white."""
    if isinstance(source, Image.Image):
        img = source
    else:
        try:
            data = source if isinstance(source, bytes) else Path(source).read_bytes()
            img = Image.open(io.BytesIO(data))
            img.load()
        except (OSError, ValueError, Image.DecompressionBombError) as exc:
            raise ImageError(f"cannot decode image: {exc}") from exc
    if getattr(img, "n_frames", 1) > 1:
        img.seek(0)
    img = ImageOps.exif_transpose(img) or img
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit greyscale: scale to 8 bits instead of clipping to white.
        img = img.point(lambda v: v / 256).convert("L")
    return img.convert("RGB")
