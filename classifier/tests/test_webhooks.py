"""Signed webhooks: subscriptions, delivery to real HTTP receivers, retries, the SSRF guard."""

import datetime as dt
import json
import time

import pytest
from django.utils import timezone
from standardwebhooks import Webhook

from classifier import services, tasks
from classifier.models import Meme, ModelVersion
from classifier.tests.api.helpers import error_of, token_client
from classifier.webhooks import services as webhooks
from classifier.webhooks.models import WebhookDelivery, WebhookEvent, WebhookSubscription


@pytest.fixture
def private_ok(settings):
    """The receivers listen on 127.0.0.1, which the guard refuses unless told otherwise."""
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    settings.WEBHOOK_READ_TIMEOUT = 2
    settings.WEBHOOK_CONNECT_TIMEOUT = 2
    return settings


@pytest.fixture
def admin_client(staff_user):
    return token_client(staff_user)


@pytest.fixture
def subscribe(private_ok, http_receiver):
    def make(*events: str) -> WebhookSubscription:
        return webhooks.webhook_subscription_create(
            url=f"{http_receiver.url}/hooks", events=list(events) or ["meme.failed"]
        )

    return make


def verified(received, secret: str) -> dict:
    """Verify one received request exactly as a receiver would, with standardwebhooks."""
    return Webhook(secret).verify(received.body, received.headers)


def fail_meme(meme_factory, django_capture_on_commit_callbacks) -> Meme:
    """Run the real classification task with no active model: the meme fails."""
    ModelVersion.objects.update(is_active=False)
    meme = meme_factory(top="NO MODEL TODAY")
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.classify_meme(meme.pk) == "failed"
    return meme


def test_it_creates_a_subscription_with_a_generated_secret_over_the_api(
    private_ok, admin_client, http_receiver
):
    response = admin_client.post(
        "/api/v1/webhooks/",
        {"url": f"{http_receiver.url}/in", "events": ["meme.classified", "meme.labelled"]},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) >= {"id", "url", "events", "secret"}
    assert body["secret"].startswith("whsec_")
    assert body["events"] == ["meme.classified", "meme.labelled"]
    listed = admin_client.get("/api/v1/webhooks/").json()
    assert [s["id"] for s in listed] == [body["id"]]
    assert "secret" not in listed[0]

    changed = admin_client.patch(
        f"/api/v1/webhooks/{body['id']}/", {"events": ["model.promoted"]}, format="json"
    )
    assert changed.status_code == 200 and changed.json()["events"] == ["model.promoted"]
    assert admin_client.delete(f"/api/v1/webhooks/{body['id']}/").status_code == 204
    assert not WebhookSubscription.objects.exists()


def test_it_refuses_unknown_events_and_non_http_urls(private_ok, admin_client):
    unknown = admin_client.post(
        "/api/v1/webhooks/", {"url": "http://127.0.0.1:9/", "events": ["meme.eaten"]}, format="json"
    )
    assert unknown.status_code == 400
    assert error_of(unknown)["field"].startswith("events")
    ftp = admin_client.post(
        "/api/v1/webhooks/", {"url": "ftp://127.0.0.1/x", "events": ["meme.failed"]}, format="json"
    )
    assert ftp.status_code == 400
    assert not WebhookSubscription.objects.exists()


def test_it_needs_staff_or_the_manage_permission(user, admin_client, private_ok):
    from django.contrib.auth.models import Permission

    plain = token_client(user)
    assert plain.get("/api/v1/webhooks/").status_code == 403
    user.user_permissions.add(Permission.objects.get(codename="manage_webhooks"))
    allowed = token_client(type(user).objects.get(pk=user.pk))
    assert allowed.get("/api/v1/webhooks/").status_code == 200


def test_it_refuses_a_private_target_at_subscription_when_private_networks_are_off(
    settings, admin_client, http_receiver
):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = False
    for url in (
        f"{http_receiver.url}/in",
        "http://localhost:9/",
        "http://10.1.2.3/",
        "http://[::1]/",
    ):
        response = admin_client.post(
            "/api/v1/webhooks/", {"url": url, "events": ["meme.failed"]}, format="json"
        )
        assert response.status_code == 400, url
        assert "refused" in error_of(response)["detail"]
    assert not WebhookSubscription.objects.exists()


def test_it_refuses_the_metadata_service_even_with_private_networks_allowed(private_ok):
    with pytest.raises(Exception, match="link-local"):
        webhooks.webhook_subscription_create(
            url="http://169.254.169.254/latest/meta-data/", events=["meme.failed"]
        )


def test_it_refuses_a_private_target_at_delivery_when_private_networks_are_off(
    subscribe, http_receiver, meme_factory, django_capture_on_commit_callbacks, settings
):
    subscription = subscribe("meme.failed")
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = False
    fail_meme(meme_factory, django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get(subscription=subscription)
    assert delivery.status == WebhookDelivery.Status.RETRYING
    assert "refused" in delivery.last_error and "127.0.0.1" in delivery.last_error
    assert http_receiver.received == []


def test_it_delivers_a_signed_event_that_a_standard_webhooks_receiver_verifies(
    subscribe, http_receiver, meme_factory, django_capture_on_commit_callbacks
):
    subscription = subscribe("meme.failed")
    meme = fail_meme(meme_factory, django_capture_on_commit_callbacks)

    (received,) = http_receiver.received
    assert received.method == "POST" and received.path == "/hooks"
    body = verified(received, subscription.secret)
    assert body["type"] == "meme.failed"
    assert body["data"]["meme"]["id"] == meme.pk
    assert body["data"]["meme"]["status"] == "failed"
    # The public sentence with its error code, never the internal detail (docs/security.md).
    assert body["data"]["meme"]["failure_reason"].startswith("No model is active")
    assert "(error M101)" in body["data"]["meme"]["failure_reason"]
    assert dt.datetime.fromisoformat(body["timestamp"]) <= timezone.now()
    delivery = WebhookDelivery.objects.get(subscription=subscription)
    assert received.headers["webhook-id"] == delivery.message_id
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED
    assert delivery.attempts == 1 and delivery.last_status_code == 200


def test_a_tampered_body_or_another_secret_does_not_verify(
    subscribe, http_receiver, meme_factory, django_capture_on_commit_callbacks
):
    from standardwebhooks.webhooks import WebhookVerificationError

    subscription = subscribe("meme.failed")
    fail_meme(meme_factory, django_capture_on_commit_callbacks)
    (received,) = http_receiver.received
    with pytest.raises(WebhookVerificationError):
        Webhook(subscription.secret).verify(received.body + b" ", received.headers)
    other = webhooks.webhook_subscription_create(url=subscription.url, events=["meme.failed"])
    with pytest.raises(WebhookVerificationError):
        verified(received, other.secret)


def test_it_retries_a_failing_receiver_with_the_same_webhook_id_until_it_recovers(
    subscribe, http_receiver, meme_factory, django_capture_on_commit_callbacks, settings
):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 0  # the retry is due at once
    http_receiver.script = [{"status": 503}, {"sleep": 0, "status": 200}]
    subscription = subscribe("meme.failed")
    fail_meme(meme_factory, django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get(subscription=subscription)
    assert delivery.status == WebhookDelivery.Status.RETRYING
    assert delivery.last_status_code == 503 and delivery.attempts == 1
    subscription.refresh_from_db()
    assert subscription.failing_since is not None

    with django_capture_on_commit_callbacks(execute=True):
        assert webhooks.webhook_sweep() == (0, 1)
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED
    assert delivery.attempts == 2 and delivery.last_status_code == 200
    first, second = http_receiver.received
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == delivery.message_id
    assert first.body == second.body
    assert verified(second, subscription.secret)["type"] == "meme.failed"
    subscription.refresh_from_db()
    assert subscription.failing_since is None


def test_it_times_out_on_a_receiver_that_hangs_and_retries_later(
    subscribe, http_receiver, meme_factory, django_capture_on_commit_callbacks, settings
):
    settings.WEBHOOK_READ_TIMEOUT = 1
    http_receiver.script = [{"sleep": 4}]
    subscription = subscribe("meme.failed")
    started = time.monotonic()
    fail_meme(meme_factory, django_capture_on_commit_callbacks)
    assert time.monotonic() - started < 4
    delivery = WebhookDelivery.objects.get(subscription=subscription)
    assert delivery.status == WebhookDelivery.Status.RETRYING
    assert "timed out" in delivery.last_error
    assert delivery.last_status_code is None
    assert delivery.next_attempt_at > timezone.now() + dt.timedelta(seconds=30)


def test_it_does_not_follow_a_redirect(
    subscribe, http_receiver, meme_factory, django_capture_on_commit_callbacks
):
    http_receiver.script = [{"redirect": "http://169.254.169.254/latest/meta-data/"}]
    subscription = subscribe("meme.failed")
    fail_meme(meme_factory, django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get(subscription=subscription)
    assert delivery.status == WebhookDelivery.Status.RETRYING
    assert delivery.last_status_code == 302
    assert len(http_receiver.received) == 1


def test_it_gives_up_after_the_last_attempt(
    subscribe, http_receiver, meme_factory, django_capture_on_commit_callbacks, settings
):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 0
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    http_receiver.script = [{"status": 500}]
    subscription = subscribe("meme.failed")
    fail_meme(meme_factory, django_capture_on_commit_callbacks)
    for _ in range(4):
        with django_capture_on_commit_callbacks(execute=True):
            webhooks.webhook_sweep()
    delivery = WebhookDelivery.objects.get(subscription=subscription)
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert delivery.attempts == 3 and len(http_receiver.received) == 3
    assert delivery.next_attempt_at is None


def test_the_default_retries_back_off_exponentially_with_jitter_over_more_than_an_hour(settings):
    assert settings.WEBHOOK_MAX_ATTEMPTS >= 5
    for _ in range(20):
        delays = [
            webhooks.retry_delay(attempts=n).total_seconds()
            for n in range(1, settings.WEBHOOK_MAX_ATTEMPTS)
        ]
        assert sum(delays) > 3600
        for n, delay in enumerate(delays, start=1):
            nominal = settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** (n - 1)
            assert nominal * 0.8 <= delay <= nominal * 1.2
    spread = {round(webhooks.retry_delay(attempts=3).total_seconds(), 3) for _ in range(20)}
    assert len(spread) > 1  # jittered, not one fixed delay


def test_it_disables_a_subscription_that_keeps_failing_and_flags_it(
    subscribe, http_receiver, meme_factory, django_capture_on_commit_callbacks, settings
):
    settings.WEBHOOK_DISABLE_AFTER_SECONDS = 3600
    http_receiver.script = [{"status": 500}]
    subscription = subscribe("meme.failed")
    WebhookSubscription.objects.filter(pk=subscription.pk).update(
        failing_since=timezone.now() - dt.timedelta(hours=2)
    )
    fail_meme(meme_factory, django_capture_on_commit_callbacks)
    subscription.refresh_from_db()
    assert not subscription.is_active
    assert subscription.disabled_at is not None and "failing" in subscription.disabled_reason

    # Disabled: new events are not recorded for it, pending retries are not sent.
    received = len(http_receiver.received)
    fail_meme(meme_factory, django_capture_on_commit_callbacks)
    assert len(http_receiver.received) == received
    assert WebhookDelivery.objects.filter(subscription=subscription).count() == 1

    # Turned on again by a PATCH, the flag is cleared.
    webhooks.webhook_subscription_update(subscription=subscription, is_active=True)
    subscription.refresh_from_db()
    assert subscription.is_active and subscription.disabled_at is None
    assert subscription.failing_since is None


def test_it_redelivers_on_request_with_the_same_webhook_id(
    subscribe, http_receiver, meme_factory, django_capture_on_commit_callbacks, admin_client
):
    subscription = subscribe("meme.failed")
    fail_meme(meme_factory, django_capture_on_commit_callbacks)
    log = admin_client.get(f"/api/v1/webhooks/{subscription.pk}/deliveries/").json()
    assert [d["status"] for d in log] == ["succeeded"]
    assert log[0]["event_type"] == "meme.failed" and log[0]["last_status_code"] == 200

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            f"/api/v1/webhooks/{subscription.pk}/deliveries/{log[0]['id']}/redeliver/"
        )
    assert response.status_code == 202
    first, second = http_receiver.received
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == log[0]["webhook_id"]
    delivery = WebhookDelivery.objects.get(pk=log[0]["id"])
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED and delivery.attempts == 1


def test_it_pings_a_subscription(
    subscribe, http_receiver, admin_client, django_capture_on_commit_callbacks
):
    subscription = subscribe("model.promoted")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"/api/v1/webhooks/{subscription.pk}/ping/")
    assert response.status_code == 202
    (received,) = http_receiver.received
    body = verified(received, subscription.secret)
    assert body["type"] == "webhook.ping"
    assert body["data"] == {"subscription": subscription.pk}


def test_it_records_nothing_without_a_subscription_and_nothing_for_a_rollback(
    subscribe, http_receiver, meme_factory, django_capture_on_commit_callbacks
):
    from django.db import transaction

    fail_meme(meme_factory, django_capture_on_commit_callbacks)
    assert not WebhookEvent.objects.exists()

    subscribe("meme.failed")
    meme = meme_factory(top="ROLLED BACK")
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services._meme_fail(meme, "a failure that never happened")
        raise RuntimeError("roll back")
    assert not WebhookEvent.objects.exists()
    assert http_receiver.received == []


def test_it_announces_a_promotion(
    subscribe, http_receiver, active_model, django_capture_on_commit_callbacks
):
    subscription = subscribe("model.promoted")
    with django_capture_on_commit_callbacks(execute=True):
        services.model_version_activate(model_version=active_model)
    body = verified(http_receiver.received[0], subscription.secret)
    assert body["type"] == "model.promoted"
    assert body["data"]["version"] == active_model.version
    assert body["data"]["model"]["is_active"] is True


def test_it_announces_a_human_label_with_its_label_set_label_and_source(
    subscribe, http_receiver, meme_factory, active_model, prediction_factory, staff_user,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    from moderation.services import correction_create

    subscription = subscribe("meme.labelled")
    meme = meme_factory(top="LABEL ME")
    prediction_factory(meme, active_model, {"positive": 0.3, "negative": 0.7})
    with django_capture_on_commit_callbacks(execute=True):
        correction = correction_create(
            meme=meme, label_set=active_model.label_set, moderator=staff_user, new_label="positive"
        )
    body = verified(http_receiver.received[0], subscription.secret)
    assert body["type"] == "meme.labelled"
    data = body["data"]
    assert (data["label_set"], data["label"]) == ("sentiment", "positive")
    assert data["source"] == "moderator"
    assert data["previous_label"] == "negative" and data["correction_id"] == correction.pk
    assert data["meme"]["human_labels"][0]["label"] == "positive"


@pytest.mark.model
def test_it_announces_a_classified_meme_with_its_predictions(
    subscribe, http_receiver, meme_factory, active_model, django_capture_on_commit_callbacks
):
    subscription = subscribe("meme.classified")
    with django_capture_on_commit_callbacks(execute=True):
        meme = meme_factory(top="WEBHOOKS ARE GREAT")
    body = verified(http_receiver.received[0], subscription.secret)
    assert body["type"] == "meme.classified"
    assert body["data"]["meme"]["id"] == meme.pk
    (prediction,) = body["data"]["meme"]["predictions"]
    assert prediction["label_set"] == "sentiment"
    assert json.dumps(body)  # plain JSON all the way down


def test_the_admin_applies_the_guard_and_shows_the_delivery_log(
    client, django_user_model, settings, http_receiver, meme_factory,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    admin = django_user_model.objects.create_superuser("root", "root@example.com", "pw-12345!")
    client.force_login(admin)
    add_url = "/admin/classifier/webhooksubscription/add/"
    form = {
        "url": f"{http_receiver.url}/admin-hook",
        "events": '["meme.failed"]',
        "is_active": "on",
    }
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = False
    refused = client.post(add_url, form)
    assert refused.status_code == 200 and b"refused" in refused.content
    assert not WebhookSubscription.objects.exists()

    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    assert client.post(add_url, form).status_code == 302
    subscription = WebhookSubscription.objects.get()
    assert subscription.secret.startswith("whsec_") and subscription.created_by == admin

    fail_meme(meme_factory, django_capture_on_commit_callbacks)
    log = client.get("/admin/classifier/webhookdelivery/")
    delivery = WebhookDelivery.objects.get()
    assert log.status_code == 200 and delivery.message_id.encode() in log.content
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/admin/classifier/webhookdelivery/",
            {"action": "redeliver", "_selected_action": [delivery.pk]},
        )
    assert len(http_receiver.received) == 2


def test_it_forgets_finished_events_after_the_log_days_but_keeps_pending_ones(
    subscribe, http_receiver, meme_factory, django_capture_on_commit_callbacks, settings
):
    settings.WEBHOOK_LOG_DAYS = 30
    subscription = subscribe("meme.failed")
    fail_meme(meme_factory, django_capture_on_commit_callbacks)  # delivered
    http_receiver.script = [{"status": 500}]
    fail_meme(meme_factory, django_capture_on_commit_callbacks)  # retrying
    WebhookEvent.objects.update(created_at=timezone.now() - dt.timedelta(days=31))
    assert webhooks.webhook_log_prune() >= 1
    (left,) = WebhookDelivery.objects.filter(subscription=subscription)
    assert left.status == WebhookDelivery.Status.RETRYING
    WebhookEvent.objects.update(created_at=timezone.now() - dt.timedelta(days=1))
    WebhookDelivery.objects.update(status=WebhookDelivery.Status.FAILED)
    assert webhooks.webhook_log_prune() == 0  # finished, but younger than the log keeps
