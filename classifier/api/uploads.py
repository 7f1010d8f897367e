"""Uploads through the API: the web form's validation, answered with the right status.

classifier.validation.normalise_upload decides what is accepted, exactly as for the form.
Only when it refuses a file is the file looked at again, from its bytes, to choose between
413 (too many bytes or pixels), 415 (not a supported image type) and 400 (empty, broken).
"""

import io
import warnings

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from PIL import Image, UnidentifiedImageError
from rest_framework.parsers import MultiPartParser

from classifier.api.errors import InvalidUpload, PayloadTooLarge, UnsupportedImage
from classifier.validation import (
    ALLOWED_FORMATS,
    InvalidImage,
    NormalisedImage,
    normalise_upload,
)

# Room for the other form fields and the multipart framing around the file.
_FORM_OVERHEAD_BYTES = 64 * 1024


def image_from_upload(upload: UploadedFile, *, max_bytes: int, field: str) -> NormalisedImage:
    """Validate an uploaded file and return the image to store or classify.

    Raises PayloadTooLarge, UnsupportedImage or InvalidUpload, naming `field`.
    """
    # Checked before reading, so a huge upload is never loaded into memory.
    if upload.size > max_bytes:
        raise PayloadTooLarge(
            f"The file is {_megabytes(upload.size)}; the limit is {_megabytes(max_bytes)}.",
            code="file_too_large",
            field=field,
        )
    data = upload.read()
    try:
        return normalise_upload(data, upload.name or "")
    except InvalidImage as exc:
        raise _rejection(data, str(exc), field) from None


def _rejection(data: bytes, message: str, field: str) -> Exception:
    if not data:
        return InvalidUpload(message, code="empty_file", field=field)
    if len(data) > settings.MAX_UPLOAD_BYTES:
        return PayloadTooLarge(message, code="file_too_large", field=field)
    kind = _sniff(data)
    if kind == "unsupported":
        return UnsupportedImage(message, code="unsupported_image_type", field=field)
    if kind == "pixels":
        return PayloadTooLarge(message, code="too_many_pixels", field=field)
    return InvalidUpload(message, code="invalid_image", field=field)


def _sniff(data: bytes) -> str:
    """Say why a rejected file was rejected: unsupported, pixels or broken."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return "pixels"
    except UnidentifiedImageError:
        # The signature of a supported format with nothing readable after it is a broken
        # image of that format; anything else is a type Memesense does not take.
        return "broken" if _has_supported_signature(data) else "unsupported"
    except Exception:  # a header Pillow recognises but cannot parse
        return "broken"
    if image.width * image.height > settings.MAX_IMAGE_PIXELS:
        return "pixels"
    return "broken"


def _has_supported_signature(data: bytes) -> bool:
    Image.init()
    for fmt in ALLOWED_FORMATS:
        accept = Image.OPEN[fmt][1]
        if accept is not None and accept(data[:16]):
            return True
    return False


def _megabytes(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB"


class LimitedMultiPartParser(MultiPartParser):
    """Refuse a multipart body bigger than the view's `max_upload_bytes`, unread.

    Django would otherwise spool any size of file to disk before the view could look
    at it; the declared Content-Length is enough to say no early.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        view = parser_context["view"]
        request = parser_context["request"]
        limit = view.max_upload_bytes() + _FORM_OVERHEAD_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit:
            raise PayloadTooLarge(
                f"The request is {_megabytes(length)}; "
                f"files up to {_megabytes(view.max_upload_bytes())} are accepted.",
                code="file_too_large",
            )
        return super().parse(stream, media_type, parser_context)
