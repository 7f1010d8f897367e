"""Prometheus metrics the classifier's processes record (web and task workers alike).

prometheus_client runs in multiprocess mode (PROMETHEUS_MULTIPROC_DIR, set by the settings
under VAR_DIR): every process writes its samples to files there and the web's /metrics
(memesense_site/metrics.py) adds them up, so one scrape covers the workers on the machine.
Names follow Prometheus' conventions (`<app>_<thing>_<unit>`), labels take few values.
"""

import os
from pathlib import Path

from django.conf import settings
from prometheus_client import Counter, Histogram

UPLOADS = Counter(
    "memesense_uploads", "New memes stored (a repeated upload of the same bytes is not counted)."
)
CLASSIFICATION_SECONDS = Histogram(
    "memesense_classification_seconds",
    "Time spent classifying a meme, by stage: ocr, model (per label set) and total.",
    ["stage", "label_set"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120),
)
WEBHOOK_DELIVERIES = Counter(
    "memesense_webhook_deliveries",
    "Webhook delivery attempts by outcome: success, http_error, timeout, error, refused.",
    ["outcome"],
)
HTTP_REQUEST_SECONDS = Histogram(
    "memesense_http_request_duration_seconds",
    "Time the web process took to answer, by method, route and status class.",
    ["method", "route", "status"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)


def classification_observe(*, stage: str, seconds: float, label_set: str = "") -> None:
    CLASSIFICATION_SECONDS.labels(stage=stage, label_set=label_set).observe(seconds)


def worker_metrics_serve(port: int) -> None:
    """Serve this machine's samples on `port` (a task worker on a machine with no web).

    Only the counters and histograms; the database gauges come from the web's /metrics.
    No token: bind it to a private network only.
    """
    from prometheus_client import CollectorRegistry, multiprocess, start_http_server

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(settings.METRICS_DIR))
    start_http_server(port, registry=registry)


def metrics_dir_clean(directory: Path | None = None) -> int:
    """Remove the sample files of processes that are gone; return how many.

    Called when a server starts (gunicorn's master, qcluster, runserver): a previous run's
    files would otherwise be added to this run's totals forever. Files of live processes
    (another server already running on the machine) are kept.
    """
    directory = Path(directory or settings.METRICS_DIR)
    removed = 0
    for path in directory.glob("*.db"):
        pid = path.stem.rsplit("_", 1)[-1]
        if pid.isdigit() and not _alive(int(pid)):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
