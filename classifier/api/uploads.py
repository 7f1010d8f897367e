"""Uploads through the API: the web form's validation, answered with the right status.

classifier.validation.normalise_upload decides what is accepted, exactly as for the form.
Only when it refuses a file is the file looked at again, from its bytes, to choose between
413 (too many bytes or pixels), 415 (not a supported image type) and 400 (empty, broken).
"""

import io
import warnings
from urllib.parse import unquote, urljoin, urlsplit

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from PIL import Image, UnidentifiedImageError
from rest_framework.parsers import MultiPartParser

from classifier import outbound
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


def image_from_url(url: str, *, max_bytes: int, field: str) -> NormalisedImage:
    """Fetch an image by URL, through the SSRF guard, and validate it like an upload.

    Redirects are followed up to IMAGE_URL_MAX_REDIRECTS, each hop checked by the guard
    again; the whole fetch is bounded by IMAGE_URL_TIMEOUT and `max_bytes`.
    """
    target = url
    for _ in range(settings.IMAGE_URL_MAX_REDIRECTS + 1):
        response = _fetch(target, max_bytes=max_bytes, field=field)
        location = response.headers.get("Location")
        if response.status in (301, 302, 303, 307, 308) and location:
            target = urljoin(target, location)
            continue
        break
    else:
        raise InvalidUpload(
            f"{url} redirects more than {settings.IMAGE_URL_MAX_REDIRECTS} times.",
            code="image_url_failed",
            field=field,
        )
    if not 200 <= response.status < 300:
        raise InvalidUpload(
            f"{target} answered HTTP {response.status}.", code="image_url_failed", field=field
        )
    name = unquote(urlsplit(target).path.rsplit("/", 1)[-1])
    try:
        return normalise_upload(response.body, name)
    except InvalidImage as exc:
        raise _rejection(response.body, str(exc), field) from None


def _fetch(url: str, *, max_bytes: int, field: str) -> outbound.Response:
    timeout = settings.IMAGE_URL_TIMEOUT
    try:
        return outbound.fetch(
            "GET",
            url,
            allow_private=settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS,
            connect_timeout=min(5, timeout),
            read_timeout=min(10, timeout),
            deadline=timeout,
            max_bytes=max_bytes,
            headers={"User-Agent": "Memesense/1", "Accept": "image/*"},
        )
    except outbound.BlockedURL as exc:
        raise InvalidUpload(
            f"This URL is refused: {exc}.", code="image_url_refused", field=field
        ) from None
    except outbound.FetchError as exc:
        if "limit" in str(exc):
            raise PayloadTooLarge(
                f"The image at the URL is too large: {exc}.", code="file_too_large", field=field
            ) from None
        raise InvalidUpload(
            f"The image could not be fetched: {exc}.", code="image_url_failed", field=field
        ) from None


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
