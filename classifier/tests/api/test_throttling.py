"""Scoped rates: uploads, classify and the rest each have their own; 429 with Retry-After."""

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from classifier.tests.api.helpers import error_of, token_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def rates(settings):
    def set_rates(**rates):
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {
                "uploads": "100/min",
                "classify": "100/min",
                "api": "100/min",
                **rates,
            },
        }

    return set_rates


def test_it_answers_429_with_retry_after_past_the_rate(user_client, rates, sentiment):
    rates(api="3/min")
    for _ in range(3):
        assert user_client.get("/api/v1/label-sets/").status_code == 200

    response = user_client.get("/api/v1/label-sets/")

    assert response.status_code == 429
    assert error_of(response)["error"] == "throttled"
    assert 1 <= int(response["Retry-After"]) <= 60


def test_uploads_have_their_own_scope(user_client, rates, meme_image, sentiment):
    rates(uploads="2/hour", api="5/min")
    for seed in range(2):
        data = meme_image(seed=seed)
        image = SimpleUploadedFile("m.png", data, content_type="image/png")
        assert user_client.post("/api/v1/memes/", {"image": image}).status_code == 202

    image = SimpleUploadedFile("m.png", meme_image(seed=9), content_type="image/png")
    refused = user_client.post("/api/v1/memes/", {"image": image})
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 60  # an hourly rate waits longer than a minute
    # Reading is another scope, still open.
    assert user_client.get("/api/v1/memes/").status_code == 200


def test_classify_has_its_own_scope(user_client, rates, sentiment):
    rates(classify="1/min")
    user_client.post("/api/v1/classify/", {}, format="multipart")
    assert user_client.post("/api/v1/classify/", {}, format="multipart").status_code == 429
    assert user_client.get("/api/v1/label-sets/").status_code == 200


def test_each_user_has_their_own_allowance(user_client, moderator, rates, sentiment):
    rates(api="1/min")
    assert user_client.get("/api/v1/label-sets/").status_code == 200
    assert user_client.get("/api/v1/label-sets/").status_code == 429
    assert token_client(moderator).get("/api/v1/label-sets/").status_code == 200


def run_settings(**env) -> subprocess.CompletedProcess:
    """Import the settings in a fresh interpreter with these environment variables."""
    clean = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "DOTENV_FILE")}
    code = "import memesense_site.settings as s; print(s.REST_FRAMEWORK['DEFAULT_THROTTLE_RATES'])"
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env={**clean, "SECRET_KEY": "x", **env},
        capture_output=True,
        text=True,
    )


def test_the_rates_come_from_the_environment():
    result = run_settings(API_THROTTLE_UPLOADS="5/min", API_THROTTLE_CLASSIFY="2/s")
    assert result.returncode == 0, result.stderr
    assert "'uploads': '5/min'" in result.stdout
    assert "'classify': '2/s'" in result.stdout
    assert "'api': '1200/min'" in result.stdout


def test_a_malformed_rate_stops_the_settings_loading():
    result = run_settings(API_THROTTLE_DEFAULT="fast")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "'fast'" in result.stderr
