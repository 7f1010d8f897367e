"""Writes for webhooks: subscriptions, emitting events, delivering and retrying them."""

import datetime as dt
import json
import logging
import random

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_q.tasks import async_task
from standardwebhooks import Webhook

from classifier import outbound
from classifier.webhooks import EVENT_TYPES, selectors
from classifier.webhooks.models import WebhookDelivery, WebhookEvent, WebhookSubscription

logger = logging.getLogger(__name__)

DISPATCH_TASK = "classifier.webhooks.tasks.webhook_event_dispatch"
DELIVER_TASK = "classifier.webhooks.tasks.webhook_delivery_attempt"
# Sent only to the subscription it was asked for, by the test ping.
PING_EVENT = "webhook.ping"
# Enough of a receiver's answer to say what went wrong, not a whole error page.
RESPONSE_BYTES_KEPT = 64 * 1024
ERROR_CHARS_KEPT = 500


# --- Subscriptions ---------------------------------------------------------------------------


def _validated_url(url: str) -> str:
    try:
        outbound.url_check(url, allow_private=settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS)
    except outbound.BlockedURL as exc:
        raise ValidationError({"url": f"This URL is refused: {exc}."}) from None
    return url


def _validated_events(events: list[str]) -> list[str]:
    unknown = sorted(set(events) - set(EVENT_TYPES))
    if unknown or not events:
        raise ValidationError(
            {"events": f"Choose one or more of {', '.join(EVENT_TYPES)} (unknown: {unknown})."}
        )
    return sorted(set(events), key=EVENT_TYPES.index)


def webhook_subscription_create(
    *,
    url: str,
    events: list[str],
    description: str = "",
    created_by: AbstractBaseUser | None = None,
) -> WebhookSubscription:
    """Subscribe `url` to `events`; the target is checked against the SSRF guard now."""
    return WebhookSubscription.objects.create(
        url=_validated_url(url),
        events=_validated_events(events),
        description=description,
        created_by=created_by,
    )


def webhook_subscription_update(
    *,
    subscription: WebhookSubscription,
    url: str | None = None,
    events: list[str] | None = None,
    description: str | None = None,
    is_active: bool | None = None,
) -> WebhookSubscription:
    """Change a subscription; turning it on again clears its failure flag."""
    if url is not None:
        subscription.url = _validated_url(url)
    if events is not None:
        subscription.events = _validated_events(events)
    if description is not None:
        subscription.description = description
    if is_active is not None:
        if is_active and not subscription.is_active:
            subscription.failing_since = None
            subscription.disabled_at = None
            subscription.disabled_reason = ""
        subscription.is_active = is_active
    subscription.save()
    return subscription


def webhook_subscription_delete(*, subscription: WebhookSubscription) -> None:
    subscription.delete()


@transaction.atomic
def webhook_subscription_ping(*, subscription: WebhookSubscription) -> WebhookDelivery:
    """Send a `webhook.ping` event to this one subscription (active or not)."""
    event = WebhookEvent.objects.create(type=PING_EVENT, details={"subscription": subscription.pk})
    event.body = _render(event)
    event.dispatched_at = timezone.now()
    event.save(update_fields=["body", "dispatched_at"])
    delivery = WebhookDelivery.objects.create(
        subscription=subscription, event=event, next_attempt_at=timezone.now()
    )
    _enqueue_on_commit(DELIVER_TASK, delivery.pk)
    return delivery


# --- Events ----------------------------------------------------------------------------------


def webhook_event_emit(
    *,
    type: str,
    meme_id: int | None = None,
    model_version_id: int | None = None,
    details: dict | None = None,
) -> WebhookEvent | None:
    """Record an event in the caller's transaction and fan it out once that commits.

    Nothing is written when no active subscription wants the event. Call it from the
    service that makes the change, inside its transaction: the event and the change
    commit or roll back together.
    """
    if type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {type!r}")
    if not selectors.subscriptions_for(event_type=type):
        return None
    event = WebhookEvent.objects.create(
        type=type, meme_id=meme_id, model_version_id=model_version_id, details=details or {}
    )
    _enqueue_on_commit(DISPATCH_TASK, event.pk)
    return event


def webhook_event_dispatch(*, event_id: int) -> list[WebhookDelivery]:
    """Render an event's body (once) and queue a delivery to every subscription that wants it.

    Idempotent: a second run finds the deliveries made by the first.
    """
    with transaction.atomic():
        event = WebhookEvent.objects.select_for_update().filter(pk=event_id).first()
        if event is None:
            return []
        if not event.body:
            event.body = _render(event)
        deliveries = []
        if event.dispatched_at is None:
            for subscription in selectors.subscriptions_for(event_type=event.type):
                delivery, created = WebhookDelivery.objects.get_or_create(
                    subscription=subscription,
                    event=event,
                    defaults={"next_attempt_at": timezone.now()},
                )
                if created:
                    deliveries.append(delivery)
                    _enqueue_on_commit(DELIVER_TASK, delivery.pk)
            event.dispatched_at = timezone.now()
        event.save(update_fields=["body", "dispatched_at"])
    return deliveries


def _render(event: WebhookEvent) -> str:
    # Imported here: rendering uses the API's serializers, which load after the app registry.
    from classifier.webhooks.payloads import event_body

    return json.dumps(event_body(event), separators=(",", ":"), ensure_ascii=False)


# --- Deliveries ------------------------------------------------------------------------------


def webhook_delivery_attempt(*, delivery_id: int) -> WebhookDelivery | None:
    """Send one attempt of a delivery if it is due; record the outcome and schedule a retry.

    Idempotent: a delivery that succeeded, gave up, or is not due yet is left alone. The
    HTTP request runs outside any transaction, so no row stays locked while it waits.
    """
    delivery = _delivery_claim(delivery_id)
    if delivery is None:
        return None
    subscription = delivery.subscription
    outcome, status_code, error, duration_ms = _send(delivery)
    _metrics_observe(outcome)
    return _delivery_record(
        delivery_id=delivery.pk,
        subscription_id=subscription.pk,
        ok=outcome == "success",
        status_code=status_code,
        error=error,
        duration_ms=duration_ms,
    )


def _delivery_claim(delivery_id: int) -> WebhookDelivery | None:
    now = timezone.now()
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update()
            .select_related("subscription", "event")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None or delivery.status not in (
            WebhookDelivery.Status.PENDING,
            WebhookDelivery.Status.RETRYING,
        ):
            return None
        if delivery.next_attempt_at and delivery.next_attempt_at > now:
            return None
        is_ping = delivery.event.type == PING_EVENT
        if not delivery.subscription.is_active and not is_ping:
            delivery.status = WebhookDelivery.Status.FAILED
            delivery.last_error = "not sent: the subscription is disabled"
            delivery.next_attempt_at = None
            delivery.save(update_fields=["status", "last_error", "next_attempt_at"])
            return None
        delivery.attempts += 1
        delivery.last_attempt_at = now
        # Held while the request runs, so the sweep does not send a second copy meanwhile.
        delivery.next_attempt_at = now + dt.timedelta(seconds=_attempt_budget_seconds())
        delivery.save(update_fields=["attempts", "last_attempt_at", "next_attempt_at"])
    return delivery


def _attempt_budget_seconds() -> int:
    return settings.WEBHOOK_CONNECT_TIMEOUT + 2 * settings.WEBHOOK_READ_TIMEOUT + 30


def _send(delivery: WebhookDelivery) -> tuple[str, int | None, str, int]:
    """POST the event; return (outcome, status code, error, milliseconds)."""
    body = delivery.event.body
    sent_at = timezone.now()
    signature = Webhook(delivery.subscription.secret).sign(
        msg_id=delivery.message_id, timestamp=sent_at, data=body
    )
    headers = {
        "webhook-id": delivery.message_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": signature,
        "content-type": "application/json",
        "user-agent": "Memesense-Webhooks/1",
    }
    try:
        response = outbound.fetch(
            "POST",
            delivery.subscription.url,
            allow_private=settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS,
            connect_timeout=settings.WEBHOOK_CONNECT_TIMEOUT,
            read_timeout=settings.WEBHOOK_READ_TIMEOUT,
            deadline=settings.WEBHOOK_CONNECT_TIMEOUT + 2 * settings.WEBHOOK_READ_TIMEOUT,
            max_bytes=RESPONSE_BYTES_KEPT,
            headers=headers,
            data=body.encode(),
        )
    except outbound.BlockedURL as exc:
        return "refused", None, f"refused: {exc}"[:ERROR_CHARS_KEPT], 0
    except outbound.FetchError as exc:
        outcome = "timeout" if "timed out" in str(exc) or "longer than" in str(exc) else "error"
        elapsed = int((timezone.now() - sent_at).total_seconds() * 1000)
        return outcome, None, str(exc)[:ERROR_CHARS_KEPT], elapsed
    duration_ms = int(response.elapsed * 1000)
    if 200 <= response.status < 300:
        return "success", response.status, "", duration_ms
    # Redirects are not followed: a receiver that moved must be re-subscribed.
    excerpt = response.body[:200].decode("utf-8", "replace")
    return "http_error", response.status, f"HTTP {response.status}: {excerpt}", duration_ms


@transaction.atomic
def _delivery_record(
    *,
    delivery_id: int,
    subscription_id: int,
    ok: bool,
    status_code: int | None,
    error: str,
    duration_ms: int,
) -> WebhookDelivery:
    now = timezone.now()
    delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery_id)
    subscription = WebhookSubscription.objects.select_for_update().get(pk=subscription_id)
    delivery.last_status_code = status_code
    delivery.last_error = error
    delivery.last_duration_ms = duration_ms
    if ok:
        delivery.status = WebhookDelivery.Status.SUCCEEDED
        delivery.delivered_at = now
        delivery.next_attempt_at = None
        if subscription.failing_since is not None:
            subscription.failing_since = None
            subscription.save(update_fields=["failing_since"])
    else:
        if delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
            delivery.status = WebhookDelivery.Status.FAILED
            delivery.next_attempt_at = None
        else:
            delivery.status = WebhookDelivery.Status.RETRYING
            delivery.next_attempt_at = now + retry_delay(attempts=delivery.attempts)
        _subscription_failure(subscription, now)
    delivery.save()
    return delivery


def retry_delay(*, attempts: int) -> dt.timedelta:
    """Wait before the next attempt after `attempts` failed ones: exponential, jittered.

    Jitter spreads the retries of many deliveries that failed together (a receiver that
    was down) so they do not all arrive at the same second when it comes back.
    """
    base = settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** (attempts - 1)
    jitter = settings.WEBHOOK_RETRY_JITTER
    return dt.timedelta(seconds=base * random.uniform(1 - jitter, 1 + jitter))


def _subscription_failure(subscription: WebhookSubscription, now: dt.datetime) -> None:
    if subscription.failing_since is None:
        subscription.failing_since = now
        subscription.save(update_fields=["failing_since"])
        return
    failing_for = now - subscription.failing_since
    if subscription.is_active and failing_for.total_seconds() >= (
        settings.WEBHOOK_DISABLE_AFTER_SECONDS
    ):
        subscription.is_active = False
        subscription.disabled_at = now
        subscription.disabled_reason = (
            f"disabled after failing for {int(failing_for.total_seconds())} s without a "
            f"success (WEBHOOK_DISABLE_AFTER_SECONDS={settings.WEBHOOK_DISABLE_AFTER_SECONDS})"
        )
        subscription.save(update_fields=["is_active", "disabled_at", "disabled_reason"])
        logger.warning("webhook subscription %s disabled: %s", subscription.pk, subscription.url)


@transaction.atomic
def webhook_delivery_redeliver(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again now, with the same `webhook-id` and a fresh set of attempts."""
    delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
    delivery.status = WebhookDelivery.Status.PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = timezone.now()
    delivery.save(update_fields=["status", "attempts", "next_attempt_at"])
    _enqueue_on_commit(DELIVER_TASK, delivery.pk)
    return delivery


def webhook_sweep() -> tuple[int, int]:
    """Queue the retries that are due and the events whose fan-out never ran.

    Also forgets finished events older than WEBHOOK_LOG_DAYS, with their deliveries.
    Returns (events, deliveries) queued. Run on a schedule (every WEBHOOK_SWEEP_MINUTES).
    """
    webhook_log_prune()
    events = list(selectors.events_undispatched(older_than=dt.timedelta(minutes=1)))
    for event_id in events:
        async_task(DISPATCH_TASK, event_id, task_name=f"webhook-event-{event_id}")
    deliveries = list(selectors.deliveries_due(now=timezone.now()))
    for delivery_id in deliveries:
        async_task(DELIVER_TASK, delivery_id, task_name=f"webhook-delivery-{delivery_id}")
    return len(events), len(deliveries)


def webhook_log_prune() -> int:
    """Delete finished events older than WEBHOOK_LOG_DAYS (and their deliveries)."""
    before = timezone.now() - dt.timedelta(days=settings.WEBHOOK_LOG_DAYS)
    deleted, _ = selectors.events_finished_before(when=before).delete()
    return deleted


def _enqueue_on_commit(func: str, object_id: int) -> None:
    # robust: the row is committed either way; a broker that is down leaves it for the sweep.
    def enqueue() -> None:
        async_task(func, object_id, task_name=f"{func.rsplit('.', 1)[-1]}-{object_id}")

    transaction.on_commit(enqueue, robust=True)


def _metrics_observe(outcome: str) -> None:
    from classifier import metrics

    metrics.WEBHOOK_DELIVERIES.labels(outcome=outcome).inc()
