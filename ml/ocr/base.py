"""The OCR engine interface and the helpers every engine shares."""

from typing import Protocol, runtime_checkable

from PIL import Image


class OcrError(RuntimeError):
    """An OCR engine is missing or broken; the caller should fail the meme with this message."""


@runtime_checkable
class OcrEngine(Protocol):
    """Reads the text in an image. Engines are created once per process and reused."""

    name: str

    def read(self, image: Image.Image) -> str:
        """Return the text in `image` with whitespace normalised ("" when there is none)."""
        ...


def normalise_whitespace(text: str) -> str:
    """Collapse runs of whitespace (newlines included) into single spaces."""
    return " ".join(text.split())


def to_rgb(image: Image.Image) -> Image.Image:
    """Return `image` as RGB, flattening transparency onto white.

    Dropping the alpha channel instead would turn transparent pixels black, and black
    is exactly the colour of caption text and its outline.
    """
    if image.mode == "RGB":
        return image
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return image.convert("RGB")
