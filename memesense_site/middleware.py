"""Refuse paths and query strings with NUL characters before any view sees them."""

from django.http import HttpRequest, HttpResponse, JsonResponse

MESSAGE = "The address contains a NUL character."


class RejectNullCharactersMiddleware:
    """Answer 400 for a path or a query parameter (name or value) holding a NUL character.

    PostgreSQL cannot store or compare a string with NUL in it: psycopg raises ValueError
    for `?label_set=%00` wherever a view passes the value to a query, a 500 that SQLite
    never shows. Forms and DRF fields already refuse NUL in bodies
    (ProhibitNullCharactersValidator); query strings and URL arguments (a `<str:username>`)
    are read raw in many views, so they are checked once here. Bodies are not read here:
    uploads are size-checked first.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.path or any(
            "\x00" in key or "\x00" in value for key, value in request.GET.items()
        ):
            if request.path.startswith("/api/"):
                return JsonResponse({"error": "parse_error", "detail": MESSAGE}, status=400)
            return HttpResponse(MESSAGE, status=400, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
