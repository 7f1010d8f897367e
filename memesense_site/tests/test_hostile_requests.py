"""A corpus of hostile requests over every web and API route: no 5xx, no traceback logged.

Every route of the URLconf is walked (so a new one is covered without editing this file)
with hostile path values (ids past 64 bits, negative, zero, text, traversal), hostile
query strings (unknown ?format=, huge page numbers and ids) and hostile bodies (a form
of huge ids and junk, a 100,000-deep JSON array, broken JSON), as an anonymous visitor,
a plain user, a moderator and a superuser. The schemathesis run (classifier/tests/api/
test_schemathesis.py) covers the API's documented parameters in depth; this covers the
rest, the web pages and the admin included.
"""

import logging
import re

import pytest
from django.urls import URLResolver, get_resolver

pytestmark = pytest.mark.django_db

HOSTILE_VALUES = [
    "99999999999999999999999",  # beyond 64 bits
    "9223372036854775808",  # 2**63: one past the largest row id
    "-1",
    "abc%00",
    "..%2F..%2Fetc%2Fpasswd",
]
HOSTILE_QUERIES = [
    "format=xyz",
    "page=99999999999999999999999&page_size=99999999999999999999999",
    "label_set=%00&status=%ff&ordering=;drop&o=99999999999999999999999&q=%27%22%3Cx%3E",
    "memes=99999999999999999999999&model_version=99999999999999999999999&uploader=%00"
    "&confidence_min=nan&confidence_max=-inf&created_after=99999-99-99&date_from=0",
]
HOSTILE_FORM = {
    "memes": ["99999999999999999999999", "-1", "abc"],
    "label_set": "sentiment",
    "action": "confirm",
    "label": "\x00",
    "seen_correction": "99999999999999999999999",
    "seen_text_correction": "-99999999999999999999999",
    "model_version": "99999999999999999999999",
    "target_precision": "1e999",
    "audit_rate": "nan",
    "q": "=1+2",
    "username": "admin",
    "password": "x" * 5000,
    "email": "a@evil.test",
}
DEEP_JSON = "[" * 100_000 + "]" * 100_000
BROKEN_JSON = '{"label_set": "sentiment", "label":'
JSON = "application/json"
# Runs real training synchronously (Q_SYNC): not a request a hostile user can make cheap.
SKIP_POSTS = {"retrain"}
# The admin of Django's own and third-party apps is their code, tested there; the admin
# of Memesense's models (and its login and index) is in the corpus.
OWN_ADMIN = re.compile(
    r"^/admin/(classifier/meme/|moderation/labelcorrection/|login/|$|\(\?P<url>)"
)
PARAM = re.compile(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>[^)]*\)")


def _routes() -> list[tuple[str, str]]:
    """(route template, name) for every pattern but others' admin, anchors stripped."""

    def walk(patterns, prefix):
        for pattern in patterns:
            text = str(pattern.pattern).lstrip("^").rstrip("$")
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + text)
            else:
                yield prefix + text, pattern.name or ""

    routes = set(walk(get_resolver().url_patterns, "/"))
    return sorted(r for r in routes if not r[0].startswith("/admin/") or OWN_ADMIN.match(r[0]))


def _concrete(template: str, value: str) -> str:
    if template.endswith(".*"):  # the API's catch-all and the admin's
        template = template[:-2] + "x"
    return PARAM.sub(value, template)


@pytest.fixture
def clients(client, django_user_model, settings, meme_factory, sentiment):
    from django.contrib.auth.models import Group
    from django.test import Client

    user = django_user_model.objects.create_user("plain", password="pw-12345!")
    moderator = django_user_model.objects.create_user("mod", password="pw-12345!")
    moderator.groups.add(Group.objects.get(name="moderators"))
    admin = django_user_model.objects.create_superuser("root", password="pw-12345!")
    meme_factory(uploader=user)  # something for id 1 to find
    made = {"anonymous": client}
    for name, who in (("user", user), ("moderator", moderator), ("admin", admin)):
        made[name] = Client()
        made[name].force_login(who)
    for each in made.values():
        each.raise_request_exception = False
    return made


def _requests(template: str, name: str):
    """(method, url, client.get/post keyword arguments) for one route."""
    path = _concrete(template, "1")
    for query in HOSTILE_QUERIES:
        yield "get", f"{path}?{query}", {}
    if PARAM.search(template):
        for value in HOSTILE_VALUES:
            yield "get", _concrete(template, value), {}
            if name not in SKIP_POSTS:
                yield "post", _concrete(template, value), {"data": HOSTILE_FORM}
    if name in SKIP_POSTS or name == "logout":
        return
    yield "post", path, {"data": HOSTILE_FORM}
    if path.startswith("/api/"):  # the only routes that read JSON bodies
        yield "post", path, {"data": DEEP_JSON, "content_type": JSON}
        yield "post", path, {"data": BROKEN_JSON, "content_type": JSON}


def test_it_answers_every_hostile_request_without_a_5xx_or_a_traceback(clients, caplog):
    caplog.set_level(logging.WARNING)
    failures = []
    sent = 0
    for template, name in _routes():
        for method, url, kwargs in _requests(template, name):
            for who, client in clients.items():
                caplog.clear()
                response = getattr(client, method)(url, **kwargs)
                sent += 1
                logged = [r for r in caplog.records if r.levelno >= logging.ERROR]
                if response.status_code >= 500 or logged:
                    failures.append(
                        (who, method, url[:120], response.status_code,
                         [r.getMessage()[:200] for r in logged])
                    )  # fmt: skip
    assert sent > 1000
    assert not failures, "\n".join(map(str, failures[:40]))
