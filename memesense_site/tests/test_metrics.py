"""GET /metrics: Prometheus text, an optional bearer token, one scrape for web and workers."""

import os
import socket
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bench import stack as live
from conftest import encode, render_meme

TIMEOUT = 240  # seconds; the machine is shared


def samples(text: str) -> dict[tuple[str, tuple], float]:
    """{(sample name, sorted labels): value} from a Prometheus text exposition."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(found: dict, name: str, **labels) -> float | None:
    return found.get((name, tuple(sorted(labels.items()))))


@pytest.mark.django_db
def test_it_serves_the_gauges_from_the_database(client, meme_factory, active_model):
    meme_factory(top="COUNT ME")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    found = samples(response.content.decode())
    assert value(found, "memesense_memes", status="pending") == 1
    assert value(found, "memesense_memes", status="classified") == 0
    assert value(found, "memesense_review_queue", label_set="sentiment") == 1
    version = active_model.version
    assert value(found, "memesense_model_info", label_set="sentiment", version=version) == 1
    assert value(found, "memesense_uploads_total") >= 1


@pytest.mark.django_db
def test_it_times_requests_by_route_not_by_path(client, user):
    client.get("/api/v1/memes/12345/")
    client.get("/api/v1/memes/67890/")
    found = samples(client.get("/metrics").content.decode())
    route = "api/v1/memes/<id:meme_id>/"
    count = value(
        found,
        "memesense_http_request_duration_seconds_count",
        method="GET",
        route=route,
        status="4xx",
    )
    assert count is not None and count >= 2
    assert not any("12345" in str(labels) for _, labels in found)


@pytest.mark.django_db
def test_it_wants_the_bearer_token_when_one_is_set(client, settings):
    settings.METRICS_TOKEN = "s3cret-token"
    refused = client.get("/metrics")
    assert refused.status_code == 401
    assert refused["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    allowed = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token")
    assert allowed.status_code == 200 and b"memesense_memes" in allowed.content


def test_it_answers_by_ip_before_the_host_check(client, settings, db):
    settings.ALLOWED_HOSTS = ["memes.example.com"]
    assert client.get("/metrics", HTTP_HOST="10.0.0.7:8080").status_code == 200


def test_it_cleans_the_files_of_processes_that_are_gone(tmp_path):
    from classifier.metrics import metrics_dir_clean

    dead = tmp_path / "counter_999999999.db"
    alive = tmp_path / f"counter_{os.getpid()}.db"
    dead.write_bytes(b"x")
    alive.write_bytes(b"x")
    assert metrics_dir_clean(tmp_path) == 1
    assert not dead.exists() and alive.exists()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.model
@pytest.mark.live
def test_one_scrape_of_the_web_covers_a_qcluster_that_classified_a_meme(tmp_path):
    stack = live.Stack.create(
        tmp_path / "stack",
        database_url=os.environ.get("DATABASE_URL", ""),
        redis_url=os.environ.get("REDIS_URL", ""),
    )
    try:
        # A file left by a process of an earlier run is cleaned when the servers start.
        metrics_dir = tmp_path / "stack" / "var" / "metrics"
        metrics_dir.mkdir(parents=True, exist_ok=True)
        (metrics_dir / "counter_999999999.db").write_bytes(b"stale")
        port = _free_port()
        stack.start_gunicorn(port, workers=1)
        cluster = stack.start_cluster("metrics-cluster")
        base = f"http://127.0.0.1:{port}"
        stack.wait_for(lambda: _get(f"{base}/healthz"), timeout=120, what="gunicorn to answer")
        assert not (metrics_dir / "counter_999999999.db").exists()

        image = tmp_path / "meme.png"
        image.write_bytes(encode(render_meme("SCRAPE ME", "IF YOU CAN", seed=7)))
        (meme_id,) = stack.upload_files([image])
        stack.wait_for(
            lambda: stack.meme_statuses()[meme_id][0] in ("classified", "failed"),
            timeout=TIMEOUT,
            what="the meme to be classified",
        )
        assert stack.meme_statuses()[meme_id][0] == "classified"
        _get(f"{base}/api/v1/label-sets/")  # 401 without a token, timed all the same

        found = samples(_get(f"{base}/metrics"))
        # Recorded by the qcluster's worker process:
        timed = "memesense_classification_seconds_count"
        assert value(found, timed, stage="total", label_set="") == 1
        assert value(found, timed, stage="ocr", label_set="") == 1
        assert value(found, timed, stage="model", label_set="sentiment") == 1
        # By the `manage.py shell` that stored the upload (a process that has exited):
        assert value(found, "memesense_uploads_total") == 1
        # By the gunicorn worker itself:
        timed_web = value(
            found,
            "memesense_http_request_duration_seconds_count",
            method="GET",
            route="api/v1/label-sets/",
            status="4xx",
        )
        assert timed_web == 1
        # From the database, at scrape time:
        assert value(found, "memesense_memes", status="classified") == 1
        assert cluster.poll() is None
    finally:
        stack.close()


def _get(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.read().decode()
    except OSError:
        return ""
