"""Odd requests get JSON client errors (or the browsable API), never a 500."""

import pytest

from classifier.tests.api.helpers import error_of

pytestmark = pytest.mark.django_db

PATHS = [
    "/api/v1/memes/",
    "/api/v1/memes/{meme}/",
    "/api/v1/memes/{meme}/corrections/",
    "/api/v1/label-sets/",
    "/api/v1/models/",
    "/api/v1/models/{version}/promote/",
    "/api/v1/label-sets/sentiment/rollback/",
    "/api/v1/classify/",
]


@pytest.fixture
def paths(meme_factory, spare_version):
    meme = meme_factory()
    return [p.format(meme=meme.pk, version=spare_version.pk) for p in PATHS]


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete", "head", "options"])
def test_no_method_on_any_endpoint_answers_500(mod_client, paths, method):
    for path in paths:
        response = getattr(mod_client, method)(path)
        assert response.status_code < 500, (method, path, response.content[:300])
        if response.status_code >= 400 and method != "head":
            error_of(response)


def test_unsupported_methods_answer_405(mod_client, paths):
    response = mod_client.delete(paths[1])
    assert response.status_code == 405
    assert error_of(response)["error"] == "method_not_allowed"


def test_the_browsable_api_renders_for_a_session(api_client, promoter, paths):
    # A promoter (a moderator with the promote permission) may open every endpoint.
    api_client.force_login(promoter)
    for path in paths:
        response = api_client.get(path, HTTP_ACCEPT="text/html")
        assert response.status_code in (200, 405), path
        assert response["Content-Type"].startswith("text/html")


def test_an_unacceptable_accept_header_answers_406(user_client, paths):
    response = user_client.get(paths[0], HTTP_ACCEPT="application/xml")
    assert response.status_code == 406
    assert response.json()["error"] == "not_acceptable"


def test_a_malformed_token_header_answers_401(api_client, paths):
    for header in ("Token", "Token a b", "Token \u00e9\u00e9"):
        api_client.credentials(HTTP_AUTHORIZATION=header)
        response = api_client.get(paths[0])
        assert response.status_code == 401, header
        assert error_of(response)["error"] == "authentication_failed"


def test_a_body_over_the_memory_limit_answers_413(mod_client, paths, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = b'{"label_set": "sentiment", "text": "' + b"x" * 5000 + b'"}'
    response = mod_client.generic("POST", paths[2], body, content_type="application/json")
    assert response.status_code == 413
    assert error_of(response)["error"] == "too_large"


def test_invalid_utf8_json_answers_400(mod_client, paths):
    response = mod_client.generic(
        "POST", paths[2], b'{"label_set": "\xff\xfe"}', content_type="application/json"
    )
    assert response.status_code == 400
    assert error_of(response)["error"] == "parse_error"


def test_lone_surrogates_in_json_are_refused(mod_client, paths):
    body = b'{"label_set": "sentiment", "label": "positive", "text": "\\ud800"}'
    response = mod_client.generic("POST", paths[2], body, content_type="application/json")
    assert response.status_code == 400
    assert error_of(response)["field"] == "text"
