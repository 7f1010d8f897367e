"""Who may call what: anonymous 401, plain users 403 on moderation endpoints, moderators OK."""

import pytest
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from classifier.tests.api.helpers import error_of

pytestmark = pytest.mark.django_db

MODERATE = "moderation.moderate"
PROMOTE = "classifier.promote_modelversion"
# (method, path, the permission it needs or None)
ENDPOINTS = [
    ("get", "/api/v1/memes/", None),
    ("post", "/api/v1/memes/", None),
    ("get", "/api/v1/memes/{meme}/", None),
    ("post", "/api/v1/memes/{meme}/retry/", None),
    ("post", "/api/v1/memes/{meme}/corrections/", MODERATE),
    ("get", "/api/v1/label-sets/", None),
    ("get", "/api/v1/models/", None),
    ("post", "/api/v1/models/{version}/promote/", PROMOTE),
    ("post", "/api/v1/label-sets/sentiment/rollback/", PROMOTE),
    ("post", "/api/v1/classify/", None),
]


@pytest.fixture
def paths(meme_factory, spare_version, user):
    # The plain user's own meme: other users' memes answer 404 (test_visibility.py).
    meme = meme_factory(uploader=user)
    return {"meme": meme.pk, "version": spare_version.pk}


@pytest.mark.parametrize(("method", "path", "permission"), ENDPOINTS)
def test_it_answers_anonymous_requests_with_401(api_client, paths, method, path, permission):
    response = getattr(api_client, method)(path.format(**paths))
    assert response.status_code == 401
    assert error_of(response)["error"] == "not_authenticated"
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize(("method", "path", "permission"), ENDPOINTS)
def test_it_answers_a_bad_token_with_401(api_client, paths, method, path, permission):
    api_client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")
    response = getattr(api_client, method)(path.format(**paths))
    assert response.status_code == 401
    assert error_of(response)["error"] == "authentication_failed"


@pytest.mark.parametrize(
    ("method", "path", "permission"), [e for e in ENDPOINTS if e[2] is not None]
)
def test_it_forbids_moderation_endpoints_to_plain_users(
    user_client, paths, method, path, permission
):
    response = getattr(user_client, method)(path.format(**paths), {}, format="json")
    assert response.status_code == 403
    body = error_of(response)
    assert body["error"] == "permission_denied"
    assert permission in body["detail"]


def test_it_lets_moderators_correct_but_only_promoters_promote(
    mod_client, promoter, paths, sentiment
):
    # Changed with issue 12.9: promotion needs its own permission at every door, the API too.
    from classifier.tests.api.helpers import token_client

    response = mod_client.post(
        f"/api/v1/memes/{paths['meme']}/corrections/",
        {"label_set": "sentiment", "label": "negative"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    promote = f"/api/v1/models/{paths['version']}/promote/"
    response = mod_client.post(promote, {"confirm": True}, format="json")
    assert response.status_code == 403 and PROMOTE in error_of(response)["detail"]
    response = token_client(promoter).post(promote, {"confirm": True}, format="json")
    assert response.status_code == 200, response.json()


@pytest.mark.parametrize(
    ("method", "path"), [(m, p) for m, p, needs in ENDPOINTS if needs is None and m == "get"]
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
