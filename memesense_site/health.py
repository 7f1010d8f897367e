"""Health check and database-outage answers for load balancers, containers and people.

Both are middleware rather than views: /healthz is called by a load balancer or a
container's HEALTHCHECK by IP address over plain HTTP, so it must answer before the host
check (ALLOWED_HOSTS) and the HTTPS redirect; and a database outage is raised from
whichever view touches the database first.
"""

import logging
import secrets

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse

logger = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"
# Seconds a client is asked to wait before trying again while the database is away.
RETRY_AFTER_SECONDS = 10


def database_status() -> str:
    """Return "ok" when a query runs, else the error (for the health answer)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        return f"{type(exc).__name__}: {str(exc).strip() or 'no detail'}"[:300]
    return "ok"


class HealthCheckMiddleware:
    """Answer GET /healthz: 200 when the database answers a query, 503 when it does not.

    Anyone (a load balancer) gets the verdict only; the database's error text, which can
    name hosts, users and settings, goes to the log, and into the answer only for a caller
    that sends HEALTHZ_TOKEN in the X-Health-Token header. (The middleware runs before
    sessions and logins, so a token rather than a staff login unlocks the detail.)

    The task broker is not checked: the web process keeps accepting uploads while it is
    down (the stale-meme sweep queues them later), so it must not be restarted for it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path != HEALTH_PATH:
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            return HttpResponse(status=405, headers={"Allow": "GET, HEAD"})
        database = database_status()
        healthy = database == "ok"
        if not healthy:
            logger.error("health check: database unavailable: %s", database)
        shown = database if healthy or _may_see_details(request) else "unavailable"
        response = JsonResponse(
            {"status": "ok" if healthy else "unavailable", "database": shown},
            status=200 if healthy else 503,
        )
        response["Cache-Control"] = "no-store"
        response["X-Content-Type-Options"] = "nosniff"
        return response


def _may_see_details(request: HttpRequest) -> bool:
    token = settings.HEALTHZ_TOKEN
    sent = request.headers.get("X-Health-Token", "")
    return bool(token) and secrets.compare_digest(sent.encode(), token.encode())


class DatabaseUnavailableMiddleware:
    """Turn a lost database connection in a view into 503 with Retry-After, not a 500.

    Only connection-level errors (OperationalError, InterfaceError) are translated: an
    IntegrityError or a bad query is a bug and stays a 500. Django drops the broken
    connection at the end of the request, so the next request reconnects by itself.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        logger.error(
            "database unavailable during %s %s: %s", request.method, request.path, exception
        )
        message = "Memesense cannot reach its database right now. Please try again in a moment."
        if request.path.startswith("/api/"):
            response = JsonResponse({"error": "service_unavailable", "detail": message}, status=503)
        else:
            response = HttpResponse(message, status=503, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
