"""Brute force: login lockout (django-axes) on the site and the admin, the web upload
form's throttle, and password reset (mounted only with mail, then throttled)."""

import importlib
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import clear_url_caches
from django.utils import timezone

pytestmark = pytest.mark.django_db

LOGINS = ["/accounts/login/", "/admin/login/"]


@pytest.fixture(autouse=True)
def empty_cache():
    """Throttle counters live in the cache; no test inherits another's."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def admin_user(django_user_model, password):
    return django_user_model.objects.create_superuser("root", password=password)


def log_in(client, url, username, password, ip="10.0.0.1", **headers):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=ip, **headers)


def logged_in_as(client) -> str | None:
    from django.contrib.auth import get_user

    user = get_user(client)
    return user.get_username() if user.is_authenticated else None


@pytest.mark.parametrize("url", LOGINS)
def test_it_locks_out_after_the_failure_limit_even_with_the_right_password(
    client, settings, admin_user, password, url
):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert log_in(client, url, "root", "wrong").status_code == 200
    # The failure that reaches the limit already answers with the lockout page.
    assert log_in(client, url, "root", "wrong").status_code == 429
    response = log_in(client, url, "root", password)
    assert response.status_code == 429
    page = response.content.decode()
    assert "Too many failed logins" in page
    assert f"after {settings.AXES_FAILURE_LIMIT} wrong passwords" in page
    assert logged_in_as(client) is None


def test_it_still_lets_the_right_password_in_below_the_limit(client, settings, user, password):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in(client, LOGINS[0], "alice", "wrong")
    assert log_in(client, LOGINS[0], "alice", password).status_code == 302
    assert logged_in_as(client) == "alice"


def test_it_locks_the_username_and_address_pair_not_the_account_everywhere(
    client, settings, user, password
):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, LOGINS[0], "alice", "wrong", ip="10.6.6.6")
    assert log_in(client, LOGINS[0], "alice", password, ip="10.6.6.6").status_code == 429
    assert log_in(client, LOGINS[0], "alice", password, ip="10.0.0.2").status_code == 302


def behind_proxy(settings, proxies: int) -> None:
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": proxies}


def test_behind_a_proxy_it_locks_the_client_the_proxy_names_not_the_proxy(
    client, settings, user, password
):
    behind_proxy(settings, 1)
    proxy = "10.9.9.9"  # every request arrives from the load balancer
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, LOGINS[0], "alice", "wrong", ip=proxy, HTTP_X_FORWARDED_FOR="203.0.113.5")
    attacker = log_in(
        client, LOGINS[0], "alice", password, ip=proxy, HTTP_X_FORWARDED_FOR="203.0.113.5"
    )
    assert attacker.status_code == 429
    # Alice, through the same proxy from her own address, still gets in.
    alice = log_in(
        client, LOGINS[0], "alice", password, ip=proxy, HTTP_X_FORWARDED_FOR="198.51.100.7"
    )
    assert alice.status_code == 302


def test_a_made_up_forwarded_for_does_not_dodge_the_lockout_without_a_proxy(
    client, settings, user, password
):
    behind_proxy(settings, 0)
    for i in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, LOGINS[0], "alice", "wrong", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}")
    response = log_in(client, LOGINS[0], "alice", password, HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert response.status_code == 429


def test_with_two_proxies_the_client_is_the_address_the_outer_one_saw(
    client, settings, user, password
):
    behind_proxy(settings, 2)
    # A client-made entry first, then what the outer proxy appended, then the inner one.
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(
            client,
            LOGINS[0],
            "alice",
            "wrong",
            ip="10.9.9.9",
            HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.5, 10.8.8.8",
        )
    dodged = log_in(
        client,
        LOGINS[0],
        "alice",
        password,
        ip="10.9.9.9",
        HTTP_X_FORWARDED_FOR="5.6.7.8, 203.0.113.5, 10.8.8.8",
    )
    assert dodged.status_code == 429


def test_it_lets_the_user_in_again_after_the_cool_off(client, settings, user, password):
    from axes.models import AccessAttempt

    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, LOGINS[0], "alice", "wrong")
    assert log_in(client, LOGINS[0], "alice", password).status_code == 429
    past = timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1)
    AccessAttempt.objects.update(attempt_time=past)
    assert log_in(client, LOGINS[0], "alice", password).status_code == 302


def test_an_admin_unlocks_a_user_with_the_reset_command(client, settings, user, password):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, LOGINS[0], "alice", "wrong")
    assert log_in(client, LOGINS[0], "alice", password).status_code == 429
    call_command("axes_reset_username", "alice")
    assert log_in(client, LOGINS[0], "alice", password).status_code == 302


def test_an_admin_unlocks_a_user_in_the_admin(client, settings, user, admin_user, password):
    from axes.models import AccessAttempt
    from django.test import Client

    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, LOGINS[0], "alice", "wrong")
    (attempt,) = AccessAttempt.objects.all()
    admin = Client()
    admin.force_login(admin_user)
    response = admin.post(
        f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"}, follow=False
    )
    assert response.status_code == 302
    assert log_in(client, LOGINS[0], "alice", password).status_code == 302


def test_the_web_upload_form_is_throttled_like_the_api(
    client, settings, user, meme_image, upload_file
):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.API_THROTTLE_RATES, "uploads": "2/min"},
    }
    client.force_login(user)
    codes = []
    for seed in range(3):
        data = meme_image(seed=seed, size=(96, 72))
        codes.append(client.post("/upload/", {"image": upload_file(data)}).status_code)
    assert codes == [302, 302, 429]
    from classifier.models import Meme

    assert Meme.objects.count() == 2
    # The same counter as the API: the API is out of uploads for this user too.
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(user)
    data = meme_image(seed=9, size=(96, 72))
    assert api.post("/api/v1/memes/", {"image": upload_file(data)}).status_code == 429


def _reload_urls():
    import memesense_site.urls

    importlib.reload(memesense_site.urls)
    clear_url_caches()


@pytest.fixture
def mail_configured(settings):
    settings.EMAIL_HOST = "smtp.example.test"
    settings.PASSWORD_RESET_ENABLED = True
    _reload_urls()
    yield
    settings.PASSWORD_RESET_ENABLED = False
    _reload_urls()


def test_password_reset_is_not_mounted_without_mail(client, settings):
    assert settings.PASSWORD_RESET_ENABLED is False
    assert client.get("/accounts/password_reset/").status_code == 404
    assert client.post("/accounts/password_reset/", {"email": "a@b.test"}).status_code == 404
    assert "Forgotten your password" not in client.get("/admin/login/").content.decode()


def test_password_reset_works_with_mail_and_is_throttled(client, settings, user, mail_configured):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.API_THROTTLE_RATES, "password_reset": "2/h"},
    }
    user.email = "alice@example.test"
    user.save()
    # A made-up X-Forwarded-For does not make a new client (NUM_PROXIES=0).
    codes = [
        client.post(
            "/accounts/password_reset/", {"email": user.email}, HTTP_X_FORWARDED_FOR=f"10.9.9.{i}"
        ).status_code
        for i in range(3)
    ]
    assert codes == [302, 302, 429]
    assert len(mail.outbox) == 2
