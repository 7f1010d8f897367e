"""A JSON parser that turns every hostile body into a 400 or 413, never a 500."""

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from classifier.api.errors import PayloadTooLarge


class LimitedJSONParser(JSONParser):
    """DRF's JSONParser, refusing bodies that are too large or nested too deep.

    DRF reads the stream itself, so Django's DATA_UPLOAD_MAX_MEMORY_SIZE never applies:
    the declared length is checked against the view's `max_upload_bytes` (else that
    setting) before anything is read. json.loads recurses once per nesting level, so a
    100,000-deep array raises RecursionError, which DRF does not catch.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        context = parser_context or {}
        view, request = context.get("view"), context.get("request")
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if view is not None and hasattr(view, "max_upload_bytes"):
            limit = view.max_upload_bytes()
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0) if request else 0
        except ValueError:
            length = 0
        if length > limit:
            raise PayloadTooLarge(f"The JSON body is {length} bytes; the limit is {limit}.")
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the body is nested too deeply.") from None
