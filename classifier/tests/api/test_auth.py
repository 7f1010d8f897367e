"""Who may call what: anonymous 401, plain users 403 on moderation endpoints, moderators OK."""

import pytest
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from classifier.tests.api.helpers import error_of

pytestmark = pytest.mark.django_db

# (method, path, needs the moderation permission)
ENDPOINTS = [
    ("get", "/api/v1/memes/", False),
    ("post", "/api/v1/memes/", False),
    ("get", "/api/v1/memes/{meme}/", False),
    ("post", "/api/v1/memes/{meme}/retry/", False),
    ("post", "/api/v1/memes/{meme}/corrections/", True),
    ("get", "/api/v1/label-sets/", False),
    ("get", "/api/v1/models/", False),
    ("post", "/api/v1/models/{version}/promote/", True),
    ("post", "/api/v1/classify/", False),
]


@pytest.fixture
def paths(meme_factory, spare_version, user):
    # The plain user's own meme: other users' memes answer 404 (test_visibility.py).
    meme = meme_factory(uploader=user)
    return {"meme": meme.pk, "version": spare_version.pk}


@pytest.mark.parametrize(("method", "path", "moderation"), ENDPOINTS)
def test_it_answers_anonymous_requests_with_401(api_client, paths, method, path, moderation):
    response = getattr(api_client, method)(path.format(**paths))
    assert response.status_code == 401
    assert error_of(response)["error"] == "not_authenticated"
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize(("method", "path", "moderation"), ENDPOINTS)
def test_it_answers_a_bad_token_with_401(api_client, paths, method, path, moderation):
    api_client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")
    response = getattr(api_client, method)(path.format(**paths))
    assert response.status_code == 401
    assert error_of(response)["error"] == "authentication_failed"


@pytest.mark.parametrize(
    ("method", "path"), [(m, p) for m, p, moderation in ENDPOINTS if moderation]
)
def test_it_forbids_moderation_endpoints_to_plain_users(user_client, paths, method, path):
    response = getattr(user_client, method)(path.format(**paths), {}, format="json")
    assert response.status_code == 403
    body = error_of(response)
    assert body["error"] == "permission_denied"
    assert "moderation.moderate" in body["detail"]


def test_it_lets_moderators_use_moderation_endpoints(mod_client, paths, sentiment):
    response = mod_client.post(
        f"/api/v1/memes/{paths['meme']}/corrections/",
        {"label_set": "sentiment", "label": "negative"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    response = mod_client.post(f"/api/v1/models/{paths['version']}/promote/")
    assert response.status_code == 200, response.json()


@pytest.mark.parametrize(
    ("method", "path"), [(m, p) for m, p, moderation in ENDPOINTS if not moderation and m == "get"]
)
def test_it_lets_any_user_read(user_client, paths, method, path):
    assert getattr(user_client, method)(path.format(**paths)).status_code == 200


def test_it_accepts_a_logged_in_session(api_client, user, paths):
    api_client.force_login(user)
    assert api_client.get(f"/api/v1/memes/{paths['meme']}/").status_code == 200


def test_it_requires_the_csrf_token_for_session_writes(user, paths, sentiment):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post("/api/v1/memes/", {}, format="multipart")
    assert response.status_code == 403
    assert "CSRF" in error_of(response)["detail"]


def test_drf_create_token_makes_a_token_that_authenticates(user, paths, capsys):
    call_command("drf_create_token", user.username)
    token = Token.objects.get(user=user)
    assert token.key in capsys.readouterr().out
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get("/api/v1/memes/").status_code == 200


def test_it_answers_unknown_api_paths_with_a_json_404(user_client):
    response = user_client.get("/api/v1/nothing-here/")
    assert response.status_code == 404
    assert error_of(response)["error"] == "not_found"
    response = user_client.get("/api/v1/memes/99999999999999999999999/")
    assert response.status_code == 404
    assert error_of(response)["error"] == "not_found"
