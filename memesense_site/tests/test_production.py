"""Production settings: `check --deploy` is clean, /healthz, and outages answer 503."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import OperationalError

BASE_DIR = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "SECRET_KEY": "k7Qp-3vXz9LmT2rWc8YhN4sBf6JgD1aEoU5iKxRtVnMqHwZyPbCe0lSdGjFu",
    "HTTPS": "1",
    "ALLOWED_HOSTS": "memes.example.com",
    "SECURE_PROXY_SSL_HEADER": "1",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "DOTENV_FILE")}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env={**clean, **env},
        capture_output=True,
        text=True,
    )


def test_check_deploy_is_clean_with_the_production_settings(tmp_path):
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_complains_without_the_https_switch():
    env = {**PRODUCTION_ENV, "HTTPS": "0"}
    result = manage("check", "--deploy", "--fail-level", "WARNING", **env)
    assert result.returncode != 0
    for code in ("W004", "W008", "W012", "W016"):
        assert code in result.stdout + result.stderr


def test_an_explicit_flag_overrides_the_https_switch():
    env = {**PRODUCTION_ENV, "SECURE_HSTS_SECONDS": "60", "SECURE_SSL_REDIRECT": "0"}
    code = (
        "from memesense_site import settings as s;"
        "print(s.SECURE_HSTS_SECONDS, s.SECURE_SSL_REDIRECT)"
    )
    clean = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "DOTENV_FILE")}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=BASE_DIR, env={**clean, **env}, capture_output=True
    )
    assert result.stdout.decode().split() == ["60", "False"]


@pytest.mark.django_db
def test_healthz_answers_ok_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_healthz_answers_any_host_and_plain_http_even_in_production(client, settings):
    # The container HEALTHCHECK calls 127.0.0.1 over HTTP; that must not be a 400 or a 301.
    settings.ALLOWED_HOSTS = ["memes.example.com"]
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz", HTTP_HOST="10.1.2.3:8080").status_code == 200
    assert client.get("/", HTTP_HOST="memes.example.com").status_code == 301
    assert client.get("/", HTTP_HOST="10.1.2.3:8080").status_code == 400


@pytest.mark.django_db
def test_healthz_answers_503_when_the_database_is_down(client, monkeypatch):
    from django.db.backends.utils import CursorWrapper

    def refuse(self, sql, params=None):
        raise OperationalError("connection refused")

    monkeypatch.setattr(CursorWrapper, "execute", refuse)
    response = client.get("/healthz")
    assert response.status_code == 503
    # No details for anonymous callers (it used to show the raw error text).
    assert response.json() == {"status": "unavailable", "database": "unavailable"}


@pytest.mark.django_db
def test_healthz_shows_the_database_error_only_with_the_health_token(client, monkeypatch, settings):
    from django.db.backends.utils import CursorWrapper

    def refuse(self, sql, params=None):
        raise OperationalError("connection to db.internal:5432 refused")

    settings.HEALTHZ_TOKEN = "s3cret-health"
    monkeypatch.setattr(CursorWrapper, "execute", refuse)
    wrong = client.get("/healthz", HTTP_X_HEALTH_TOKEN="guess")
    assert wrong.status_code == 503 and "db.internal" not in wrong.content.decode()
    right = client.get("/healthz", HTTP_X_HEALTH_TOKEN="s3cret-health")
    assert right.status_code == 503
    assert right.json()["database"] == "OperationalError: connection to db.internal:5432 refused"


@pytest.mark.django_db
def test_a_page_answers_503_with_retry_after_while_the_database_is_down(
    settings, client, monkeypatch
):
    from classifier import selectors

    settings.ALLOW_ANONYMOUS_UPLOAD = True

    def down(**kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(selectors, "memes_recent", down)
    response = client.get("/upload/")
    assert response.status_code == 503
    assert response["Retry-After"]
    assert b"cannot reach its database" in response.content


@pytest.mark.django_db
def test_a_bug_is_still_a_500_not_an_outage(settings, client, monkeypatch):
    from django.db import IntegrityError

    from classifier import selectors

    settings.ALLOW_ANONYMOUS_UPLOAD = True

    def bug(**kwargs):
        raise IntegrityError("duplicate key")

    monkeypatch.setattr(selectors, "memes_recent", bug)
    client.raise_request_exception = False
    assert client.get("/upload/").status_code == 500


@pytest.mark.django_db
def test_the_api_answers_503_json_while_the_database_is_down(user, monkeypatch):
    from django.db.backends.utils import CursorWrapper
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(user)

    def refuse(self, sql, params=None):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(CursorWrapper, "execute", refuse)
    response = api.get("/api/v1/memes/")
    assert response.status_code == 503
    assert response["Retry-After"]
    assert response.json()["error"] == "service_unavailable"
