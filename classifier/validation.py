"""Check an uploaded file and turn it into the image Memesense stores.

The type is sniffed from the bytes (never from the name or the browser's content type) and
only JPEG, PNG, WebP, GIF and BMP are decoded. The whole image is decoded here, so a
truncated file or a decompression bomb is rejected before anything is written.

What is stored is a normalised copy, not the original bytes:
- it is upright (EXIF orientation applied), so the page, OCR and the model all see the
  same picture, whatever the viewer does with EXIF;
- it is 8-bit RGB or RGBA (CMYK, 16-bit, palette and grey images converted), one frame;
- it carries no metadata (camera, GPS position) and no bytes that were not pixels, so a
  polyglot file (an image that is also HTML or a script) cannot be served back.
JPEG uploads are re-encoded as JPEG, everything else as PNG (lossless). The meme's SHA-256
is still the hash of the bytes uploaded, so a re-upload of the same file finds the meme.
"""

import hashlib
import io
import re
import unicodedata
from dataclasses import dataclass, field

from django.conf import settings
from PIL import Image, ImageOps, UnidentifiedImageError

ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP")
ALLOWED_LABEL = "JPEG, PNG, WebP, GIF or BMP"

_MAX_NAME_LENGTH = 120


class InvalidImage(ValueError):
    """The upload cannot be accepted; the message is shown to the user as is."""


@dataclass
class NormalisedImage:
    sha256: str
    data: bytes
    extension: str
    content_type: str
    width: int
    height: int
    size_bytes: int
    original_name: str
    source_format: str
    notes: list[str] = field(default_factory=list)


def normalise_upload(data: bytes, name: str) -> NormalisedImage:
    """Validate `data` (an upload named `name`) and return the copy to store.

    Raises InvalidImage with a message meant for the uploader.
    """
    notes: list[str] = []
    clean_name = clean_file_name(name)
    if clean_name != (name or ""):
        notes.append(f"The file name was cleaned to “{clean_name}”.")

    if not data:
        raise InvalidImage("The file is empty (0 bytes).")
    limit = settings.MAX_UPLOAD_BYTES
    if len(data) > limit:
        raise InvalidImage(
            f"The file is {_megabytes(len(data))}; the limit is {_megabytes(limit)}."
        )
    if _looks_like_markup(data):
        raise InvalidImage(
            "This is a text document (SVG, HTML or XML), not a picture. "
            f"Please upload a {ALLOWED_LABEL} image."
        )

    image = _decode(data)
    fmt = image.format or ""
    # A name whose extension disagrees with the bytes (a JPEG saved as .png) is common and
    # harmless: the type is read from the bytes, so the uploader is not told about it.

    if _orientation(image) not in (None, 1):
        try:
            image = ImageOps.exif_transpose(image)
            notes.append("The photo was turned upright using its EXIF orientation.")
        except Exception:  # a damaged EXIF block: keep the pixels as they are
            pass
    pixels = _to_8bit(image)

    out = io.BytesIO()
    if fmt == "JPEG" and pixels.mode == "RGB":
        pixels.save(out, format="JPEG", quality=92)
        ext, content_type = "jpg", "image/jpeg"
    else:
        pixels.save(out, format="PNG")
        ext, content_type = "png", "image/png"

    return NormalisedImage(
        sha256=hashlib.sha256(data).hexdigest(),
        data=out.getvalue(),
        extension=ext,
        content_type=content_type,
        width=pixels.width,
        height=pixels.height,
        size_bytes=len(data),
        original_name=clean_name,
        source_format=fmt,
        notes=notes,
    )


def clean_file_name(name: str | None) -> str:
    """Return a short, printable base name for display; the stored file is named by hash."""
    name = unicodedata.normalize("NFC", name or "")
    # Keep only the last path component, whichever separator the client used.
    name = re.split(r"[\\/]", name)[-1]
    # Drop control and formatting characters (NUL, newlines, right-to-left overrides).
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] not in ("C",))
    name = " ".join(name.split()).strip(" .")
    if len(name) > _MAX_NAME_LENGTH:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 10:
            name = stem[: _MAX_NAME_LENGTH - len(ext) - 1] + "." + ext
        else:
            name = name[:_MAX_NAME_LENGTH]
    return name or "upload"


def _decode(data: bytes) -> Image.Image:
    limit = settings.MAX_IMAGE_PIXELS
    try:
        image = Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels(limit) from None
    except UnidentifiedImageError:
        raise InvalidImage(
            f"This file is not a picture Memesense can read. Please upload a {ALLOWED_LABEL} image."
        ) from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise InvalidImage(f"The image is damaged and cannot be read ({exc}).") from None

    # Checked on the header, before any pixel is decoded. Pillow would only warn up to
    # twice its limit; here the limit is a hard one.
    if image.width * image.height > limit:
        raise _too_many_pixels(limit, image.width, image.height)
    if image.width < 1 or image.height < 1:
        raise InvalidImage("The image has no pixels.")
    try:
        image.seek(0)  # animated GIF/WebP: the first frame is the meme
        image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels(limit) from None
    except (OSError, SyntaxError, ValueError, EOFError, MemoryError):
        raise InvalidImage(
            "The image is truncated or damaged (its data ends before the picture does). "
            "Please upload the complete file."
        ) from None
    return image


def _too_many_pixels(limit: int, width: int = 0, height: int = 0) -> InvalidImage:
    size = f" ({width} × {height})" if width else ""
    return InvalidImage(
        f"The image is too large{size}: at most {limit / 1e6:.0f} megapixels are accepted."
    )


def _to_8bit(image: Image.Image) -> Image.Image:
    """Convert any decoded mode to 8-bit RGB, or RGBA when the image has transparency."""
    mode = image.mode
    if mode.startswith("I;16") or mode in ("I", "F"):
        # 16-bit and 32-bit grey: convert("L") would clip everything above 255 to white,
        # so scale the actual range down to 0..255 instead.
        grey = image.convert("F") if mode == "F" else image.convert("I").convert("F")
        low, high = grey.getextrema()
        scale = 255.0 / (high - low) if high > low else 0.0
        image = grey.point(lambda v: (v - low) * scale).convert("L")
        mode = "L"
    if mode == "P" and "transparency" in image.info:
        return image.convert("RGBA")
    if mode in ("RGBA", "LA", "PA", "La", "RGBa"):
        return image.convert("RGBA")
    if mode == "RGB":
        return image.copy()
    # CMYK (converted by Pillow's naive formula), YCbCr, L, 1, P without alpha.
    return image.convert("RGB")


def _orientation(image: Image.Image) -> int | None:
    try:
        return image.getexif().get(0x0112)
    except Exception:  # a damaged EXIF block only means no rotation
        return None


def _looks_like_markup(data: bytes) -> bool:
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<", b"\xff\xfe<", b"\xfe\xff\x00<"))


def _megabytes(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB"
