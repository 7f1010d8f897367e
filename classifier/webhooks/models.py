"""Webhook subscriptions, the events they receive and the log of each delivery.

Registered with the classifier app (classifier/models.py imports this module).
"""

import secrets
import uuid

from django.conf import settings
from django.db import models


def generate_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes in base64."""
    import base64

    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def generate_message_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


class WebhookSubscription(models.Model):
    url = models.URLField(max_length=2000)
    events = models.JSONField(help_text='Event types delivered, e.g. ["meme.classified"].')
    secret = models.CharField(max_length=100, default=generate_secret)
    description = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Set by the first failed delivery after a success; a subscription failing for longer
    # than WEBHOOK_DISABLE_AFTER_SECONDS is turned off and flagged with the reason.
    failing_since = models.DateTimeField(null=True, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["pk"]
        permissions = [("manage_webhooks", "Can manage webhook subscriptions")]

    def __str__(self) -> str:
        return self.url


class WebhookEvent(models.Model):
    """Something happened; `body` is the JSON every subscriber receives.

    Written in the transaction of the change (so an event is never lost nor sent for a
    change that rolled back); rendered and fanned out to subscriptions by a task.
    """

    type = models.CharField(max_length=64, db_index=True)
    meme_id = models.BigIntegerField(null=True, blank=True)
    model_version_id = models.BigIntegerField(null=True, blank=True)
    # Event-specific facts captured when it happened (the label set and label of a
    # correction, ...), merged into the body's "data".
    details = models.JSONField(default=dict, blank=True)
    # Rendered once, as text: every attempt sends (and signs) exactly the same bytes.
    body = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    dispatched_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.type} #{self.pk}"


class WebhookDelivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RETRYING = "retrying", "Retrying"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    # The `webhook-id` header: the same on every attempt, so receivers can de-duplicate.
    message_id = models.CharField(max_length=40, unique=True, default=generate_message_id)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_duration_ms = models.PositiveIntegerField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "event"], name="one_delivery_per_subscription_event"
            )
        ]

    def __str__(self) -> str:
        return f"{self.event} -> {self.subscription} ({self.status})"
