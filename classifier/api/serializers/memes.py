"""Output shapes of memes and their predictions.

They never query: the selectors prefetch the rows (`memes_with_details`) and compute the
rest once per response (`memes_context`, `meme_detail_context`). Apps built on classifier
add their fields through classifier/extensions.py.
"""

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from classifier.extensions import meme_extensions
from classifier.models import AutoDecision, Meme, Prediction
from classifier.reposts.selectors import Reposts
from classifier.selectors import meme_latest_predictions


class WordEffectSerializer(serializers.Serializer):
    text = serializers.CharField(help_text="A caption word, or a chunk of a long caption.")
    effect = serializers.FloatField(
        help_text="Drop in the label's probability when it is left out (positive: pushed for it)."
    )


class ExplanationSerializer(serializers.Serializer):
    """Which modality decided (see docs/ml.md, Explanations); on the model's raw scale."""

    label = serializers.CharField()
    probability = serializers.FloatField()
    image_only = serializers.FloatField(help_text="Probability of the label, text masked.")
    text_only = serializers.FloatField(help_text="Probability of the label, image masked.")
    image_effect = serializers.FloatField()
    text_effect = serializers.FloatField()
    deciding = serializers.ChoiceField(choices=["image", "text", "both"])
    words = WordEffectSerializer(many=True)


class AutoDecisionSerializer(serializers.Serializer):
    """The prediction stands without a human (see README, calibrated automatic decisions)."""

    threshold = serializers.FloatField(help_text="Confidence threshold it passed.")
    audit = serializers.BooleanField(help_text="Drawn for a moderator's audit.")
    reverted_at = serializers.DateTimeField(
        allow_null=True, help_text="When a moderator undid it; null while it stands."
    )
    created_at = serializers.DateTimeField()


class PredictionSerializer(serializers.ModelSerializer):
    label_set = serializers.CharField(source="label_set.name")
    explanation = serializers.SerializerMethodField(
        help_text="null for predictions made without one (bulk reclassification)."
    )
    auto_decision = serializers.SerializerMethodField(
        help_text="null unless the prediction was confident enough to decide automatically."
    )
    probabilities = serializers.DictField(
        child=serializers.FloatField(), help_text="Probability of every class."
    )
    model_version = serializers.CharField(source="model_version.version")
    model_version_id = serializers.IntegerField()

    class Meta:
        model = Prediction
        fields = [
            "label_set",
            "label",
            "probabilities",
            "confidence",
            "margin",
            "entropy",
            "model_version",
            "model_version_id",
            "explanation",
            "auto_decision",
            "created_at",
        ]

    @extend_schema_field(AutoDecisionSerializer(allow_null=True))
    def get_auto_decision(self, prediction: Prediction) -> dict | None:
        # Joined by selectors.memes_with_details: reading it here runs no query.
        try:
            decision = prediction.auto_decision
        except AutoDecision.DoesNotExist:
            return None
        return AutoDecisionSerializer(decision).data

    @extend_schema_field(ExplanationSerializer(allow_null=True))
    def get_explanation(self, prediction: Prediction) -> dict | None:
        return prediction.explanation or None


# No docstrings on the meme serializers: drf-spectacular would publish them in the schema.
class _ExtensibleMemeSerializer(serializers.ModelSerializer):
    # Adds the registered extensions' fields and puts every field in `field_order`. The
    # order is the API contract's (docs/api.md, the schema), so it is written here, where
    # the endpoints are served, even for fields an extension supplies.

    extension_methods: tuple[str, ...] = ("fields",)
    field_order: list[str] = []

    def get_fields(self) -> dict:
        fields = super().get_fields()
        for extension in meme_extensions():
            for method in self.extension_methods:
                fields.update(getattr(extension, method)())
        position = {name: i for i, name in enumerate(self.field_order)}
        return dict(sorted(fields.items(), key=lambda item: position.get(item[0], len(position))))


# Every field of a meme response in the API contract's order, moderation's extension included.
MEME_FIELDS = [
    "id",
    "url",
    "page_url",
    "status",
    "failure_reason",
    "caption",
    "ocr_text",
    "text",
    "image_url",
    "original_name",
    "content_type",
    "size_bytes",
    "width",
    "height",
    "uploader",
    "predictions",
    "human_labels",
    "offensive_score",
    "nsfw_score",
    "created_at",
    "updated_at",
    "queued_at",
    "processing_started_at",
    "finished_at",
]


class MemeSerializer(_ExtensibleMemeSerializer):
    url = serializers.SerializerMethodField(help_text="This meme in the API.")
    page_url = serializers.SerializerMethodField(help_text="This meme's web page.")
    image_url = serializers.SerializerMethodField(help_text="The stored (normalised) image.")
    uploader = serializers.CharField(source="uploader.username", allow_null=True, default=None)
    predictions = serializers.SerializerMethodField(
        help_text="The latest prediction of each label set."
    )
    offensive_score = serializers.FloatField(
        read_only=True,
        allow_null=True,
        help_text="0-1: how likely the meme's text (OCR + caption) is offensive language "
        "(alt-profanity-check); null until classified.",
    )
    nsfw_score = serializers.FloatField(
        read_only=True,
        allow_null=True,
        help_text="0-1: the detector's confidence in an exposed sexual body part in the picture "
        "(nudenet); null unless NSFW_DETECTION is on.",
    )

    field_order = MEME_FIELDS

    class Meta:
        model = Meme
        # The fields this app serves, in the contract's order; moderation's extension adds
        # `text` and `human_labels` (classifier/extensions.py).
        fields = [f for f in MEME_FIELDS if f not in ("text", "human_labels")]

    def _absolute(self, path: str) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, meme: Meme) -> str:
        return self._absolute(reverse("api:meme-detail", args=[meme.pk]))

    @extend_schema_field(OpenApiTypes.URI)
    def get_page_url(self, meme: Meme) -> str:
        return self._absolute(reverse("classifier:meme_detail", args=[meme.pk]))

    @extend_schema_field(OpenApiTypes.URI)
    def get_image_url(self, meme: Meme) -> str:
        return self._absolute(meme.image.url)

    @extend_schema_field(PredictionSerializer(many=True))
    def get_predictions(self, meme: Meme) -> list:
        return PredictionSerializer(meme_latest_predictions(meme=meme), many=True).data


class RepostClusterSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="cluster_id", allow_null=True)
    reposts = serializers.IntegerField(
        source="count", help_text="Other memes with a near-identical picture."
    )
    meme_ids = serializers.SerializerMethodField(help_text="The first 12 of them, oldest first.")

    def get_meme_ids(self, reposts_found: Reposts) -> list[int]:
        return [meme.pk for meme in reposts_found.memes]


class MemeDetailSerializer(MemeSerializer):
    # One meme; its context comes from selectors.meme_detail_context.
    repost_cluster = serializers.SerializerMethodField(
        help_text="The meme's repost cluster (near-identical pictures); null before it is hashed."
    )

    extension_methods = ("fields", "detail_fields")
    field_order = [*MemeSerializer.field_order, "repost_cluster", "suggested_labels"]

    class Meta(MemeSerializer.Meta):
        fields = [*MemeSerializer.Meta.fields, "repost_cluster"]

    @extend_schema_field(RepostClusterSerializer(allow_null=True))
    def get_repost_cluster(self, meme: Meme) -> dict | None:
        found: Reposts = self.context["reposts"]
        return None if found.cluster_id is None else RepostClusterSerializer(found).data
