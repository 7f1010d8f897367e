"""Reads for webhooks."""

import datetime as dt

from django.db.models import Q, QuerySet
from django.utils import timezone

from classifier.webhooks.models import WebhookDelivery, WebhookEvent, WebhookSubscription


def subscriptions_for(*, event_type: str) -> list[WebhookSubscription]:
    """Active subscriptions that want `event_type`.

    Filtered in Python: a JSON `contains` lookup is not available on SQLite, and there
    are a handful of subscriptions, not thousands.
    """
    return [s for s in WebhookSubscription.objects.filter(is_active=True) if event_type in s.events]


def subscriptions_list() -> QuerySet[WebhookSubscription]:
    return WebhookSubscription.objects.order_by("pk")


def subscription_get(*, subscription_id: int) -> WebhookSubscription:
    return WebhookSubscription.objects.get(pk=subscription_id)


def deliveries_list(*, subscription: WebhookSubscription) -> QuerySet[WebhookDelivery]:
    return subscription.deliveries.select_related("event").order_by("-created_at", "-id")


def delivery_get(*, subscription: WebhookSubscription, delivery_id: int) -> WebhookDelivery:
    return deliveries_list(subscription=subscription).get(pk=delivery_id)


def deliveries_due(*, now: dt.datetime) -> QuerySet[int]:
    """Ids of deliveries waiting for an attempt whose time has come."""
    return (
        WebhookDelivery.objects.filter(
            status__in=[WebhookDelivery.Status.PENDING, WebhookDelivery.Status.RETRYING]
        )
        .filter(Q(next_attempt_at__lte=now) | Q(next_attempt_at__isnull=True))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)
    )


def events_finished_before(*, when: dt.datetime) -> QuerySet[WebhookEvent]:
    """Events older than `when` with no delivery still waiting for an attempt."""
    waiting = WebhookDelivery.objects.filter(
        status__in=[WebhookDelivery.Status.PENDING, WebhookDelivery.Status.RETRYING]
    ).values("event_id")
    return WebhookEvent.objects.filter(created_at__lt=when, dispatched_at__isnull=False).exclude(
        pk__in=waiting
    )


def events_undispatched(*, older_than: dt.timedelta) -> QuerySet[int]:
    """Ids of events whose fan-out task never ran (lost, or the broker was down)."""
    return WebhookEvent.objects.filter(
        dispatched_at__isnull=True, created_at__lte=timezone.now() - older_than
    ).values_list("pk", flat=True)
