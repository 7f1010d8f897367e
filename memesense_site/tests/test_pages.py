"""Every page: a Content-Security-Policy, styled error pages with a way back, a favicon."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import RequestFactory
from django.urls import reverse
from django.views.defaults import server_error

TEMPLATES = Path(settings.BASE_DIR) / "templates"


@pytest.fixture(autouse=True)
def plain_static_storage(settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def test_it_sends_a_content_security_policy_without_inline_scripts(client, db):
    response = client.get(reverse("login"))
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert "object-src 'none'" in policy


def test_no_template_has_an_inline_script_handler_or_style():
    # The policy forbids them, so any left would silently stop working in the browser.
    roots = [TEMPLATES, *Path(settings.BASE_DIR).glob("*/templates")]
    offenders = []
    for root in roots:
        for path in root.rglob("*.html"):
            text = path.read_text()
            if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text):
                offenders.append(f"{path}: inline <script>")
            if re.search(r"\son[a-z]+\s*=", text):
                offenders.append(f"{path}: inline event handler")
            if re.search(r"\sstyle\s*=", text):
                offenders.append(f"{path}: inline style attribute")
    assert offenders == []


def test_a_non_moderator_gets_a_styled_403_with_a_way_back(client, db):
    client.force_login(User.objects.create_user("visitor", password="pw-12345!"))
    response = client.get(reverse("moderation:dashboard"))
    html = response.content.decode()
    assert response.status_code == 403
    assert 'data-status="403"' in html and "css/site.css" in html
    assert f'href="{reverse("classifier:home")}"' in html
    assert "moderators" in html


def test_an_unknown_page_gets_a_styled_404_with_a_way_back(client, db):
    response = client.get("/no/such/page/")
    html = response.content.decode()
    assert response.status_code == 404
    assert 'data-status="404"' in html and "Back to the start page" in html


def test_the_500_page_renders_without_a_request_context(db):
    response = server_error(RequestFactory().get("/"))
    html = response.content.decode()
    assert response.status_code == 500
    assert 'data-status="500"' in html and "Back to the start page" in html
    assert "Traceback" not in html


def test_every_page_names_the_favicon_and_it_is_served(client, db):
    html = client.get(reverse("login")).content.decode()
    match = re.search(r'<link rel="icon" href="([^"]+)"', html)
    assert match and match.group(1).endswith("favicon.svg")
    assert (Path(settings.BASE_DIR) / "static" / "favicon.svg").read_text().startswith("<svg")
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"] == match.group(1)
