"""Property-based run of the live schema: no 5xx, and every response matches the schema.

Schemathesis reads /api/schema/ from the WSGI application and generates requests from it
(valid and invalid parameters, bodies and files) for every operation, sent with a
moderator's token so the moderation endpoints are exercised too.
"""

import logging

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from classifier.tests.api.helpers import token_client
from classifier.tests.api.test_schema import OPERATIONS

pytestmark = pytest.mark.django_db

# Per operation and mode (schema-valid, schema-invalid): bounded so the run stays short.
EXAMPLES = 20

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


@pytest.fixture
def wsgi_app():
    """The site's WSGI application, sharing the test's database transaction.

    Django closes "old" connections around each request; inside the test transaction
    that would poison it, so (as Django's own test client does) that is switched off.
    """
    from memesense_site.wsgi import application

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield application
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def api_data(moderator, meme_factory, prediction_factory, sentiment):
    """Something to find: a classified meme with a human label (ids 1.. are likely)."""
    from classifier import services
    from moderation.services import correction_create

    version = services.model_version_register(
        label_set=sentiment, version="sentiment-fuzz", artifact_path="/nonexistent/fuzz"
    )
    meme = meme_factory()
    prediction_factory(meme, version, {"positive": 0.4, "negative": 0.6})
    correction_create(meme=meme, label_set=sentiment, moderator=moderator, new_label="positive")
    return meme


@pytest.fixture
def web_schema(wsgi_app, api_data, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"uploads": None, "classify": None, "api": None},
    }
    return schemathesis.openapi.from_wsgi("/api/schema/", wsgi_app)


@pytest.fixture
def auth_headers(moderator) -> dict:
    client = token_client(moderator)
    return {"Authorization": client._credentials["HTTP_AUTHORIZATION"]}


NO_INPUT = {("/api/v1/label-sets/", "get"), ("/api/v1/webhooks/", "get")}

# In a multipart body every value travels as a string, so "text: true" arrives as the
# string "true" and is rightly accepted; schemathesis would count that as accepting data
# that breaks the schema. Multipart operations run every check but that one.
MULTIPART = {("/api/v1/memes/", "post"), ("/api/v1/classify/", "post")}
# Operations that take no parameters and no body: no invalid request can be generated.
NO_INPUT = {("/api/v1/label-sets/", "get"), ("/api/v1/webhooks/", "get")}


# schemathesis.pytest's lazy loader does not work with this pytest (it sets a private
# attribute pytest 9 no longer has), so each operation is driven through Hypothesis here.
@pytest.mark.parametrize(
    ("path", "method", "mode"),
    [
        pytest.param(
            path,
            method,
            mode,
            marks=[pytest.mark.model] if path == "/api/v1/classify/" else [],
        )
        for path, method in sorted(OPERATIONS)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        # Nothing to get wrong: no parameters, no body.
        if not (mode == GenerationMode.NEGATIVE and (path, method) in NO_INPUT)
    ],
)
def test_the_api_keeps_to_its_schema(request, web_schema, auth_headers, caplog, path, method, mode):
    if path == "/api/v1/classify/":
        # With no active model, classify would rightly answer 503; give it the real one.
        request.getfixturevalue("active_model")
    operation = web_schema[path][method.upper()]
    checks = CHECKS
    if (path, method) in MULTIPART:
        checks = [c for c in CHECKS if c is not negative_data_rejection]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case):
        case.call_and_validate(headers=auth_headers, checks=checks)

    caplog.set_level(logging.ERROR)
    check()
    # No 5xx is not enough: nothing may have been logged as an error (a traceback) either.
    errors = [r.getMessage()[:300] for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, errors[:5]
