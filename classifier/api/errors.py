"""Every API error answers {"error": code, "detail": message} (plus "field" when one is to blame).

DRF's own exceptions keep their status codes (401, 403, 404, 405, 415, 429 with Retry-After);
the few Django exceptions that client input can raise past DRF are translated here, so no
request, however malformed, answers 500. A genuine server bug still answers 500, as JSON,
and is logged with its traceback.
"""

import logging

from django.core import exceptions as django_exceptions
from django.db import InterfaceError, OperationalError
from django.http import Http404
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response

logger = logging.getLogger(__name__)


class ApiError(exceptions.APIException):
    """An API error with a stable code and, optionally, the request field it is about."""

    def __init__(self, detail: str, *, code: str | None = None, field: str | None = None):
        super().__init__(detail, code or self.default_code)
        self.code = code or self.default_code
        self.field = field


class PayloadTooLarge(ApiError):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request is too large."
    default_code = "too_large"


class UnsupportedImage(ApiError):
    status_code = status.HTTP_415_UNSUPPORTED_MEDIA_TYPE
    default_detail = "This file is not a picture Memesense can read."
    default_code = "unsupported_image_type"


class InvalidUpload(ApiError):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "The image cannot be read."
    default_code = "invalid_image"


class Conflict(ApiError):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "Someone changed this since you read it."
    default_code = "stale"

    def __init__(self, detail: str, *, latest_correction_id: int, **kwargs):
        super().__init__(detail, **kwargs)
        self.latest_correction_id = latest_correction_id


class AlreadyUploaded(ApiError):
    """The same bytes are another user's meme, which this user may not see."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = (
        "This exact image is already in Memesense, uploaded by someone else; "
        "moderators review it there."
    )
    default_code = "uploaded_by_someone_else"

    def __init__(self, detail: str | None = None, **kwargs):
        super().__init__(detail or self.default_detail, **kwargs)


class CannotRetry(ApiError):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This meme cannot be retried now."
    default_code = "cannot_retry"


class CannotPromote(ApiError):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This model version cannot be promoted."
    default_code = "cannot_promote"


class GateNotApproved(ApiError):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The promotion gate did not approve this version; confirm to promote it."
    default_code = "gate_not_approved"


class ClassificationFailed(ApiError):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "The image could not be classified."
    default_code = "classification_failed"


# Not ml_bridge.ClassifierUnavailable (the bridge failing to load a model): the API's 503,
# whose code `classifier_unavailable` is part of the contract.
class ModelUnavailable(ApiError):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "No model is available to classify with."
    default_code = "classifier_unavailable"


def exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, OperationalError | InterfaceError):
        # A lost database is an outage, not a bug: returning None lets DRF re-raise it
        # to DatabaseUnavailableMiddleware, which answers 503 with Retry-After.
        return None
    exc = _translate(exc)
    # Imported here: rest_framework.views reads DEFAULT_PARSER_CLASSES when it is first
    # imported, and our parser imports this module, so a module-level import is a cycle
    # whenever this module is the first to be loaded (a worker building a webhook body).
    from rest_framework.views import exception_handler as drf_exception_handler

    response = drf_exception_handler(exc, context)
    if response is None:
        view = context.get("view")
        logger.exception("unhandled error in %s", type(view).__name__, exc_info=exc)
        return Response(
            {"error": "server_error", "detail": "Internal server error; it has been logged."},
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    response.data = error_body(exc)
    return response


def _translate(exc: Exception) -> Exception:
    """Turn the Django exceptions that client input can cause into DRF ones."""
    if isinstance(exc, Http404):
        # E.g. an unknown ?format= (DRF's content negotiation raises Django's Http404).
        return exceptions.NotFound(str(exc) or "Not found.")
    if isinstance(exc, django_exceptions.PermissionDenied):
        return exceptions.PermissionDenied(str(exc) or None)
    if isinstance(exc, django_exceptions.RequestDataTooBig):
        return PayloadTooLarge("The request body is larger than the server accepts.")
    if isinstance(exc, django_exceptions.TooManyFieldsSent | django_exceptions.TooManyFilesSent):
        return exceptions.ParseError(str(exc) or "Too many fields or files in the request.")
    if isinstance(exc, django_exceptions.ValidationError):
        return exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        )
    if isinstance(exc, django_exceptions.SuspiciousOperation):
        return exceptions.ParseError("The request is malformed.")
    return exc


def error_body(exc: exceptions.APIException) -> dict:
    if isinstance(exc, exceptions.ValidationError):
        return _validation_body(exc.detail)
    body = {"error": _code(exc), "detail": str(exc.detail)}
    if getattr(exc, "field", None):
        body["field"] = exc.field
    if isinstance(exc, Conflict):
        body["latest_correction_id"] = exc.latest_correction_id
    return body


def _code(exc: exceptions.APIException) -> str:
    codes = exc.get_codes()
    return codes if isinstance(codes, str) else exc.default_code


def _validation_body(detail) -> dict:
    fields = _flatten(detail)
    field, messages = next(iter(fields.items()), ("non_field_errors", ["Invalid input."]))
    body = {"error": "invalid", "detail": messages[0], "field": field, "fields": fields}
    return body


def _flatten(detail, prefix: str = "") -> dict[str, list[str]]:
    """{"a": {"b": ["x"]}} -> {"a.b": ["x"]}; a bare list belongs to non_field_errors."""
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for key, value in detail.items():
            out.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(detail, list):
        if any(isinstance(item, dict | list) for item in detail):
            out = {}
            for index, item in enumerate(detail):
                out.update(_flatten(item, f"{prefix}.{index}" if prefix else str(index)))
            return out
        return {prefix or "non_field_errors": [str(item) for item in detail]}
    return {prefix or "non_field_errors": [str(detail)]}


# --- OpenAPI ---------------------------------------------------------------------------------


class ErrorSerializer(serializers.Serializer):
    """The body of every error response."""

    error = serializers.CharField(help_text="A stable, machine-readable code.")
    detail = serializers.CharField(help_text="What went wrong, for people.")
    field = serializers.CharField(
        required=False, help_text="The request field to blame (validation and upload errors)."
    )
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Every invalid field with its messages (validation errors).",
    )


class StaleErrorSerializer(ErrorSerializer):
    latest_correction_id = serializers.IntegerField(
        help_text="The decision made since; send it as seen_correction_id to overrule it."
    )


def described(description: str, serializer=ErrorSerializer) -> OpenApiResponse:
    """An error response for extend_schema: the error body, with what it means here."""
    return OpenApiResponse(response=serializer, description=description)


UNAUTHENTICATED = {
    401: described("No credentials, or bad ones (`not_authenticated`, `authentication_failed`).")
}
THROTTLED = {429: described("Too many requests (`throttled`); the Retry-After header says when.")}
NOT_FOUND = {404: described("No such object (`not_found`).")}
FORBIDDEN = {403: described("The user lacks the moderation permission (`permission_denied`).")}
BAD_REQUEST = {
    400: described("Invalid input (`invalid`, `parse_error`); `field` names the culprit."),
}
UPLOAD_ERRORS = {
    400: described(
        "Invalid input: a broken, truncated or empty image (`invalid_image`, `empty_file`), "
        "or another invalid field (`invalid`, `parse_error`); `field` names the culprit."
    ),
    413: described("The file is over the size limit, or the image over the pixel limit."),
    415: described(
        "The request is not multipart (`unsupported_media_type`), or the file is not a "
        "JPEG, PNG, WebP, GIF or BMP image, judged by its bytes (`unsupported_image_type`)."
    ),
}
STALE = {
    409: described("Someone decided on the meme after `seen_*` (`stale`).", StaleErrorSerializer)
}
