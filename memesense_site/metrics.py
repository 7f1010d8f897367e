"""GET /metrics: Prometheus text format for the whole machine, and the request timer.

The counters and histograms every process records (classifier/metrics.py) are read from
the multiprocess directory (METRICS_DIR), so the web's /metrics also covers the task
workers on the same machine. The gauges (memes by status, review queue, active models) are
counted from the database at scrape time by a collector, so they are right whichever
process changed the rows. Across machines, see docs/integration.md (Metrics).
"""

import hmac
import time

from django.conf import settings
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily

from classifier import metrics
from classifier.models import Meme
from classifier.selectors import model_versions_active

_METRICS_PATH = "/metrics"


class DatabaseCollector:
    """memesense_memes, memesense_review_queue and memesense_model_info, read at scrape."""

    def collect(self):
        # Imported here: moderation's selectors need the app registry, which the module
        # import of this file (from the URLconf) does not wait for.
        from moderation.selectors.queue import queue_sizes

        memes = GaugeMetricFamily("memesense_memes", "Memes by status.", labels=["status"])
        counts = dict(Meme.objects.values_list("status").annotate(n=Count("pk")))
        for status in Meme.Status.values:
            memes.add_metric([status], counts.get(status, 0))
        yield memes

        queue = GaugeMetricFamily(
            "memesense_review_queue",
            "Memes waiting for a human decision, by label set.",
            labels=["label_set"],
        )
        for label_set, size in queue_sizes():
            queue.add_metric([label_set.name], size)
        yield queue

        info = GaugeMetricFamily(
            "memesense_model_info",
            "The active model version of each label set (always 1).",
            labels=["label_set", "version"],
        )
        for version in model_versions_active():
            info.add_metric([version.label_set.name, version.version], 1)
        yield info


def metrics_view(request: HttpRequest) -> HttpResponse:
    if settings.METRICS_TOKEN:
        sent = request.headers.get("Authorization", "")
        expected = f"Bearer {settings.METRICS_TOKEN}"
        if not hmac.compare_digest(sent.encode(), expected.encode()):
            response = HttpResponse("A bearer token is needed.\n", status=401)
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(settings.METRICS_DIR))
    registry.register(DatabaseCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


class MetricsMiddleware:
    """Answer GET /metrics, and record every other answer's time.

    /metrics answers here, before the host check and the HTTPS redirect, because
    Prometheus scrapes each instance by its address (as load balancers call /healthz).
    The time is recorded by method, route pattern and status class.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        if request.path == _METRICS_PATH and request.method in ("GET", "HEAD"):
            return metrics_view(request)
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        # The route pattern, not the path: a label must take few values.
        route = match.route if match is not None else "unmatched"
        metrics.HTTP_REQUEST_SECONDS.labels(
            method=request.method if request.method in _METHODS else "other",
            route=route,
            status=f"{response.status_code // 100}xx",
        ).observe(time.perf_counter() - started)
        return response


_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
