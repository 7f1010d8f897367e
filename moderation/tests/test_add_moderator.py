"""manage.py add_moderator: create or promote a moderator, hand over a set-password link."""

import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("add_moderator", *args, stdout=out)
    return out.getvalue()


def link_in(output: str) -> str:
    return re.search(r"https?://\S+", output)[0]


def test_it_creates_a_moderator_without_a_password_and_prints_a_link(client):
    output = run("kim", "--email", "kim@example.com")
    assert "Created moderator kim" in output
    kim = get_user_model().objects.get(username="kim")
    assert kim.email == "kim@example.com"
    assert not kim.has_usable_password()
    assert kim.has_perm("moderation.moderate")

    # The link is a real one: it lets kim choose a password, then kim can log in.
    path = link_in(output).split("8000", 1)[1]
    form = client.get(path, follow=True)
    assert form.status_code == 200 and b"new_password1" in form.content
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "a long moderator pass", "new_password2": "a long moderator pass"},
    )
    assert done.status_code == 302
    # Through the login page: django-axes' backend wants the request that client.login lacks.
    logged_in = client.post(
        "/accounts/login/", {"username": "kim", "password": "a long moderator pass"}
    )
    assert logged_in.status_code == 302 and client.session.get("_auth_user_id") == str(kim.pk)
    # Used once, the link is spent.
    assert b"new_password1" not in client.get(path, follow=True).content


def test_it_promotes_an_existing_user_and_keeps_the_password(user, password):
    output = run(user.username)
    assert "is now a moderator" in output and "http" not in output
    user.refresh_from_db()
    assert user.check_password(password)
    assert type(user).objects.get(pk=user.pk).has_perm("moderation.moderate")
    assert "moderator already; nothing changed" in run(user.username)


def test_it_prints_a_link_for_an_existing_user_when_asked(user):
    assert link_in(run(user.username, "--password-link")).startswith("http://127.0.0.1:8000/")


def test_it_refuses_an_invalid_username():
    with pytest.raises(CommandError, match="username"):
        run("not a valid name!")
    assert not get_user_model().objects.exists()
