"""Webhook subscriptions and their delivery log in the admin (registered by classifier.admin)."""

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import ValidationError

from classifier import outbound
from classifier.webhooks import EVENT_TYPES, services
from classifier.webhooks.models import WebhookDelivery, WebhookSubscription


class WebhookSubscriptionForm(forms.ModelForm):
    url = forms.URLField(max_length=2000, assume_scheme="https")

    class Meta:
        model = WebhookSubscription
        fields = ["url", "events", "description", "is_active"]
        help_texts = {"events": f"A JSON list of one or more of {', '.join(EVENT_TYPES)}."}

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        try:
            outbound.url_check(url, allow_private=settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS)
        except outbound.BlockedURL as exc:
            raise ValidationError(f"This URL is refused: {exc}.") from None
        return url

    def clean_events(self) -> list:
        events = self.cleaned_data["events"]
        if not isinstance(events, list) or not events or set(events) - set(EVENT_TYPES):
            raise ValidationError(f"A list of one or more of {', '.join(EVENT_TYPES)}.")
        return events


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    form = WebhookSubscriptionForm
    list_display = ["url", "events", "is_active", "failing_since", "disabled_at"]
    list_filter = ["is_active"]
    readonly_fields = ["secret", "created_at", "failing_since", "disabled_at", "disabled_reason"]
    actions = ["ping"]

    def save_model(self, request, obj, form, change):
        # Through the services, like the API (the form has checked the URL and events).
        if change:
            # The stored row, not `obj` the form already changed: the service compares them.
            services.webhook_subscription_update(
                subscription=WebhookSubscription.objects.get(pk=obj.pk),
                url=obj.url,
                events=obj.events,
                description=obj.description,
                is_active=obj.is_active,
            )
            return
        created = services.webhook_subscription_create(
            url=obj.url, events=obj.events, description=obj.description, created_by=request.user
        )
        obj.pk = created.pk
        obj.secret = created.secret

    @admin.action(description="Send a test ping to the selected subscriptions")
    def ping(self, request, queryset):
        for subscription in queryset:
            services.webhook_subscription_ping(subscription=subscription)
        self.message_user(request, f"Pinged {queryset.count()} subscription(s).")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "message_id",
        "subscription",
        "event",
        "status",
        "attempts",
        "last_status_code",
        "last_attempt_at",
        "next_attempt_at",
    ]
    # The log of every subscription, filtered to one here (an inline on the subscription
    # page would list thousands of rows).
    list_filter = ["status", "event__type", "subscription"]
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]
    actions = ["redeliver"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Deliver the selected again now (same webhook-id)")
    def redeliver(self, request, queryset):
        for delivery in queryset:
            services.webhook_delivery_redeliver(delivery=delivery)
        self.message_user(request, f"Queued {queryset.count()} delivery(ies) again.")
