"""The body of a webhook: `{"type", "timestamp", "data"}`, memes as the API shows them."""

from django.conf import settings

from classifier.api import selectors as api_selectors
from classifier.api import serializers
from classifier.models import Meme, ModelVersion
from classifier.webhooks.models import WebhookEvent


class _SiteRequest:
    """Stands in for a request so the API's serializers write absolute links (SITE_URL)."""

    def build_absolute_uri(self, path: str) -> str:
        return f"{settings.SITE_URL}{path}" if settings.SITE_URL else path


def event_body(event: WebhookEvent) -> dict:
    data = dict(event.details)
    context = {"request": _SiteRequest()}
    if event.meme_id is not None:
        try:
            # The receiving platform gets every meme it is told about, as the API shows it
            # to a caller who is not a moderator: no moderator identities (docs/security.md).
            meme = api_selectors.memes_with_details(Meme.objects.filter(pk=event.meme_id)).get()
        except Meme.DoesNotExist:
            data["meme"] = {"id": event.meme_id, "deleted": True}
        else:
            details = api_selectors.meme_detail_context(user=None, meme=meme)
            data["meme"] = serializers.MemeDetailSerializer(
                meme, context={**context, **details}
            ).data
    if event.model_version_id is not None:
        version = (
            ModelVersion.objects.select_related("label_set", "parent", "triggered_by")
            .filter(pk=event.model_version_id)
            .first()
        )
        data["model"] = (
            serializers.ModelVersionSerializer(version).data
            if version is not None
            else {"id": event.model_version_id, "deleted": True}
        )
    return {
        "type": event.type,
        "timestamp": event.created_at.isoformat().replace("+00:00", "Z"),
        "data": data,
    }
