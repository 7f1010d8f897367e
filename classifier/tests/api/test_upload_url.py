"""POST /api/v1/memes/ with `image_url`: fetched by the server behind the SSRF guard."""

import time

import pytest

from classifier.models import Meme
from classifier.tests.api.helpers import error_of


@pytest.fixture
def local_ok(settings):
    """The test server listens on 127.0.0.1, which the guard refuses unless told otherwise."""
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    settings.IMAGE_URL_TIMEOUT = 3
    return settings


def post_url(client, url: str, **extra):
    return client.post("/api/v1/memes/", {"image_url": url, **extra}, format="json")


def test_it_stores_an_image_fetched_from_a_url_like_an_upload(
    local_ok, user_client, http_receiver, meme_image, meme_files
):
    data = meme_image(top="FROM A URL", fmt="JPEG")
    http_receiver.script = [{"body": data, "type": "image/jpeg"}]
    response = post_url(user_client, f"{http_receiver.url}/memes/cat%20meme.jpg", text="hi")
    assert response.status_code == 202, response.content
    meme = Meme.objects.get(pk=response.json()["id"])
    assert meme.original_name == "cat meme.jpg"
    assert meme.content_type == "image/jpeg" and meme.caption == "hi"
    assert meme.size_bytes == len(data)
    assert len(meme_files()) == 1
    (received,) = http_receiver.received
    assert received.method == "GET" and received.path == "/memes/cat%20meme.jpg"

    # The same bytes by URL again find the same meme, as a repeated upload does.
    again = post_url(user_client, f"{http_receiver.url}/other.jpg")
    assert again.status_code == 200 and again.json()["id"] == meme.pk


def test_it_follows_a_redirect_to_a_public_looking_path(
    local_ok, user_client, http_receiver, meme_image
):
    http_receiver.script = [
        {"redirect": "/final.png", "status": 301},
        {"body": meme_image(top="MOVED"), "type": "image/png"},
    ]
    response = post_url(user_client, f"{http_receiver.url}/start")
    assert response.status_code == 202, response.content
    assert [r.path for r in http_receiver.received] == ["/start", "/final.png"]


def test_it_refuses_a_redirect_to_a_private_address(local_ok, user_client, http_receiver):
    http_receiver.script = [{"redirect": "http://169.254.169.254/latest/meta-data/"}]
    response = post_url(user_client, f"{http_receiver.url}/innocent.png")
    assert response.status_code == 400
    body = error_of(response)
    assert body["error"] == "image_url_refused" and body["field"] == "image_url"
    assert "169.254.169.254" in body["detail"]
    assert not Meme.objects.exists()


def test_it_refuses_a_private_address_when_private_networks_are_off(
    settings, user_client, http_receiver, meme_image
):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = False
    http_receiver.script = [{"body": meme_image(), "type": "image/png"}]
    for url in (f"{http_receiver.url}/a.png", "http://10.0.0.8/a.png", "file:///etc/passwd"):
        response = post_url(user_client, url)
        assert response.status_code == 400, url
        assert error_of(response)["field"] == "image_url"
    assert http_receiver.received == []
    assert not Meme.objects.exists()


def test_it_gives_up_on_a_slow_body(local_ok, user_client, http_receiver, meme_files):
    # Each chunk comes well within the read timeout; the whole body never within the deadline.
    local_ok.IMAGE_URL_TIMEOUT = 1
    http_receiver.script = [{"drip": b"x" * 100, "every": 0.2, "type": "image/png"}]
    started = time.monotonic()
    response = post_url(user_client, f"{http_receiver.url}/slow.png")
    assert time.monotonic() - started < local_ok.IMAGE_URL_TIMEOUT + 2
    assert response.status_code == 400
    assert "longer than" in error_of(response)["detail"]
    assert meme_files() == []


def test_it_refuses_an_oversized_body_without_reading_it_all(
    local_ok, user_client, http_receiver, meme_files
):
    local_ok.MAX_UPLOAD_BYTES = 50_000
    # Declared too large:
    http_receiver.script = [{"body": b"x" * 60_000, "type": "image/png"}]
    declared = post_url(user_client, f"{http_receiver.url}/big.png")
    assert declared.status_code == 413
    assert error_of(declared)["error"] == "file_too_large"
    # Not declared (streamed), cut off past the limit:
    http_receiver.script = [{"drip": b"x" * 20_000, "every": 0.01, "times": 10}]
    streamed = post_url(user_client, f"{http_receiver.url}/big-stream.png")
    assert streamed.status_code == 413
    assert meme_files() == []


def test_it_validates_the_fetched_bytes_like_a_file(local_ok, user_client, http_receiver):
    http_receiver.script = [
        {"body": b"<svg xmlns='http://www.w3.org/2000/svg'/>", "type": "image/png"}
    ]
    response = post_url(user_client, f"{http_receiver.url}/not-really.png")
    assert response.status_code == 415
    assert error_of(response)["field"] == "image_url"
    http_receiver.script = [{"status": 404, "body": b"gone"}]
    missing = post_url(user_client, f"{http_receiver.url}/gone.png")
    assert missing.status_code == 400 and "HTTP 404" in error_of(missing)["detail"]


def test_it_wants_a_file_or_a_url_not_both_nor_neither(user_client, meme_image, upload_file):
    neither = user_client.post("/api/v1/memes/", {"text": "hi"}, format="json")
    assert neither.status_code == 400
    both = user_client.post(
        "/api/v1/memes/",
        {"image": upload_file(meme_image()), "image_url": "http://example.com/a.png"},
        format="multipart",
    )
    assert both.status_code == 400
    assert "either" in error_of(both)["detail"]
