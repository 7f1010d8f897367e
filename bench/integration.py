"""What the platform integration costs: a /metrics scrape, and one webhook delivery.

Runs in one process against a throw-away SQLite database (migrated here) and a real HTTP
receiver on 127.0.0.1; prints each figure with the machine's load average.

    .venv/bin/python -m bench.integration --memes 1000,10000 --deliveries 100
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def configure(workdir: Path) -> None:
    os.environ.update(
        DJANGO_SETTINGS_MODULE="memesense_site.settings",
        SECRET_KEY="bench-integration-only",
        DOTENV_FILE="",
        VAR_DIR=str(workdir / "var"),
        MEDIA_ROOT=str(workdir / "media"),
        METRICS_DIR=str(workdir / "metrics"),
        DATABASE_URL="",
        REDIS_URL="",
        Q_SYNC="1",
        WEBHOOK_ALLOW_PRIVATE_NETWORKS="1",
        ALLOWED_HOSTS="testserver",
    )
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def add_memes(n: int, start: int) -> None:
    from classifier.models import Meme

    statuses = list(Meme.Status.values)
    Meme.objects.bulk_create(
        Meme(
            sha256=f"{i:064x}",
            image=f"memes/{i:064x}.png",
            content_type="image/png",
            size_bytes=1000,
            width=10,
            height=10,
            status=statuses[i % len(statuses)],
        )
        for i in range(start, start + n)
    )


def time_scrapes(repeats: int) -> tuple[float, int]:
    from django.test import Client

    client = Client()
    times, size = [], 0
    for _ in range(repeats):
        started = time.perf_counter()
        response = client.get("/metrics")
        times.append(time.perf_counter() - started)
        assert response.status_code == 200
        size = len(response.content)
    return statistics.median(times), size


def receiver() -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(204)
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/hook"


def time_deliveries(n: int, url: str) -> tuple[float, float]:
    """Milliseconds per event: rendered, signed, delivered (median and p95 of attempts)."""
    from classifier.models import Meme
    from classifier.webhooks import services
    from classifier.webhooks.models import WebhookDelivery

    services.webhook_subscription_create(url=url, events=["meme.failed"])
    meme_ids = list(Meme.objects.values_list("pk", flat=True)[:n])
    started = time.perf_counter()
    for meme_id in meme_ids:
        # Outside a transaction on_commit runs at once: dispatch, then the delivery task,
        # both through django-q2 in this process (Q_SYNC).
        services.webhook_event_emit(type="meme.failed", meme_id=meme_id)
    total = time.perf_counter() - started
    done = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.SUCCEEDED).count()
    assert done == len(meme_ids), f"{done} of {len(meme_ids)} delivered"
    durations = sorted(WebhookDelivery.objects.values_list("last_duration_ms", flat=True))
    p95 = durations[int(0.95 * (len(durations) - 1))]
    return 1000 * total / len(meme_ids), p95


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--memes", default="1000,10000")
    parser.add_argument("--deliveries", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        configure(Path(tmp))
        print(f"load average at start: {os.getloadavg()}")
        stored = 0
        for target in (int(n) for n in args.memes.split(",")):
            add_memes(target - stored, stored)
            stored = target
            median, size = time_scrapes(args.repeats)
            print(
                f"/metrics with {target} memes: median {1000 * median:.1f} ms over "
                f"{args.repeats} scrapes, {size} bytes (load {os.getloadavg()[0]:.1f})"
            )
        server, url = receiver()
        try:
            per_event, p95 = time_deliveries(args.deliveries, url)
        finally:
            server.shutdown()
        print(
            f"webhook: {per_event:.1f} ms per event (render + sign + deliver, {args.deliveries} "
            f"events, one subscription), HTTP attempt p95 {p95} ms "
            f"(load {os.getloadavg()[0]:.1f})"
        )


if __name__ == "__main__":
    main()
