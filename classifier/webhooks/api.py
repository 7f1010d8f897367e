"""Webhook subscriptions over the API (/api/v1/webhooks/): staff or `manage_webhooks` only."""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from classifier.api import errors
from classifier.webhooks import EVENT_TYPES, selectors, services
from classifier.webhooks.models import WebhookDelivery, WebhookSubscription

MANAGE_PERMISSION = "classifier.manage_webhooks"


class CanManageWebhooks(permissions.BasePermission):
    message = "Only staff or users with classifier.manage_webhooks may manage webhooks."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and (user.is_staff or user.has_perm(MANAGE_PERMISSION)))


class SubscriptionSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookSubscription
        fields = [
            "id",
            "url",
            "events",
            "description",
            "is_active",
            "created_at",
            "failing_since",
            "disabled_at",
            "disabled_reason",
        ]


class SubscriptionWithSecretSerializer(SubscriptionSerializer):
    class Meta(SubscriptionSerializer.Meta):
        fields = [*SubscriptionSerializer.Meta.fields, "secret"]


class SubscriptionInputSerializer(serializers.Serializer):
    url = serializers.URLField(max_length=2000)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENT_TYPES), allow_empty=False
    )
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False)


class DeliverySerializer(serializers.ModelSerializer):
    event_type = serializers.CharField(source="event.type")
    webhook_id = serializers.CharField(source="message_id")

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "webhook_id",
            "event_type",
            "status",
            "attempts",
            "next_attempt_at",
            "last_attempt_at",
            "last_status_code",
            "last_error",
            "last_duration_ms",
            "delivered_at",
            "created_at",
        ]


def _django_errors(exc: DjangoValidationError) -> ValidationError:
    return ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)


class WebhookAPIView(APIView):
    permission_classes = [permissions.IsAuthenticated, CanManageWebhooks]

    def subscription(self, subscription_id: int) -> WebhookSubscription:
        try:
            return selectors.subscription_get(subscription_id=subscription_id)
        except WebhookSubscription.DoesNotExist:
            raise NotFound(f"No webhook subscription with id {subscription_id}.") from None


_COMMON = {
    **errors.UNAUTHENTICATED,
    **errors.THROTTLED,
    403: errors.described("Not staff, nor allowed to manage webhooks (`permission_denied`)."),
}


class SubscriptionListView(WebhookAPIView):
    @extend_schema(
        operation_id="webhooks_list",
        summary="List webhook subscriptions",
        responses={200: SubscriptionSerializer(many=True), **_COMMON},
    )
    def get(self, request: Request) -> Response:
        return Response(SubscriptionSerializer(selectors.subscriptions_list(), many=True).data)

    @extend_schema(
        operation_id="webhooks_create",
        summary="Subscribe a URL to events; the answer holds its signing secret",
        request=SubscriptionInputSerializer,
        responses={201: SubscriptionWithSecretSerializer, **errors.BAD_REQUEST, **_COMMON},
    )
    def post(self, request: Request) -> Response:
        body = SubscriptionInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            subscription = services.webhook_subscription_create(
                url=data["url"],
                events=data["events"],
                description=data.get("description", ""),
                created_by=request.user,
            )
        except DjangoValidationError as exc:
            raise _django_errors(exc) from None
        return Response(
            SubscriptionWithSecretSerializer(subscription).data, status=status.HTTP_201_CREATED
        )


class SubscriptionDetailView(WebhookAPIView):
    @extend_schema(
        operation_id="webhooks_retrieve",
        summary="Get a subscription (with its secret)",
        responses={200: SubscriptionWithSecretSerializer, **errors.NOT_FOUND, **_COMMON},
    )
    def get(self, request: Request, subscription_id: int) -> Response:
        return Response(SubscriptionWithSecretSerializer(self.subscription(subscription_id)).data)

    @extend_schema(
        operation_id="webhooks_update",
        summary="Change a subscription; is_active=true turns a disabled one on again",
        request=SubscriptionInputSerializer(partial=True),
        responses={
            200: SubscriptionSerializer,
            **errors.BAD_REQUEST,
            **errors.NOT_FOUND,
            **_COMMON,
        },
    )
    def patch(self, request: Request, subscription_id: int) -> Response:
        subscription = self.subscription(subscription_id)
        body = SubscriptionInputSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        try:
            subscription = services.webhook_subscription_update(
                subscription=subscription, **body.validated_data
            )
        except DjangoValidationError as exc:
            raise _django_errors(exc) from None
        return Response(SubscriptionSerializer(subscription).data)

    @extend_schema(
        operation_id="webhooks_destroy",
        summary="Delete a subscription and its delivery log",
        responses={204: None, **errors.NOT_FOUND, **_COMMON},
    )
    def delete(self, request: Request, subscription_id: int) -> Response:
        services.webhook_subscription_delete(subscription=self.subscription(subscription_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class SubscriptionPingView(WebhookAPIView):
    @extend_schema(
        operation_id="webhooks_ping",
        summary="Send a webhook.ping event to this subscription",
        request=None,
        responses={202: DeliverySerializer, **errors.NOT_FOUND, **_COMMON},
    )
    def post(self, request: Request, subscription_id: int) -> Response:
        delivery = services.webhook_subscription_ping(
            subscription=self.subscription(subscription_id)
        )
        delivery.refresh_from_db()
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


class DeliveryListView(WebhookAPIView):
    @extend_schema(
        operation_id="webhooks_deliveries_list",
        summary="The delivery log of a subscription, newest first",
        responses={200: DeliverySerializer(many=True), **errors.NOT_FOUND, **_COMMON},
    )
    def get(self, request: Request, subscription_id: int) -> Response:
        deliveries = selectors.deliveries_list(subscription=self.subscription(subscription_id))
        return Response(DeliverySerializer(deliveries[:100], many=True).data)


class RedeliverView(WebhookAPIView):
    @extend_schema(
        operation_id="webhooks_deliveries_redeliver",
        summary="Send a delivery again now (same webhook-id)",
        request=None,
        responses={202: DeliverySerializer, **errors.NOT_FOUND, **_COMMON},
    )
    def post(self, request: Request, subscription_id: int, delivery_id: int) -> Response:
        subscription = self.subscription(subscription_id)
        try:
            delivery = selectors.delivery_get(subscription=subscription, delivery_id=delivery_id)
        except WebhookDelivery.DoesNotExist:
            raise NotFound(f"No delivery {delivery_id} for this subscription.") from None
        delivery = services.webhook_delivery_redeliver(delivery=delivery)
        delivery.refresh_from_db()
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
