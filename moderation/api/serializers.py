"""Input and output shapes of moderation's API: corrections, agreement, promotion.

Output serializers never query: the views and the meme extension hand them prefetched
rows.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from classifier.api.serializers import QuerySerializer, StrictCharField, request_user
from classifier.converters import MAX_ID
from classifier.models import LabelSet, user_sees_all_memes
from moderation.api import selectors
from moderation.models import LabelCorrection

CORRECTED_TEXT_MAX_LENGTH = 20_000

# --- Output ----------------------------------------------------------------------------------


class HumanLabelSerializer(serializers.ModelSerializer):
    label_set = serializers.CharField(source="label_set.name")
    label = serializers.SerializerMethodField(help_text="null when marked unusable.")
    correction_id = serializers.IntegerField(source="id")
    moderator = serializers.SerializerMethodField(
        help_text="Who decided: shown to moderators only (null for everyone else)."
    )

    class Meta:
        model = LabelCorrection
        fields = ["label_set", "label", "unusable", "correction_id", "moderator", "created_at"]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_moderator(self, correction: LabelCorrection) -> str | None:
        if not user_sees_all_memes(request_user(self.context)) or correction.moderator is None:
            return None
        return correction.moderator.username

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_label(self, correction: LabelCorrection) -> str | None:
        return None if correction.unusable else correction.new_label


class SuggestedLabelSerializer(serializers.Serializer):
    label_set = serializers.CharField(source="label_set.name")
    label = serializers.CharField()
    votes = serializers.IntegerField(help_text="Reposts whose standing human label this is.")
    labelled = serializers.IntegerField(help_text="Reposts with a standing human label.")


@extend_schema_field(HumanLabelSerializer(many=True))
class HumanLabelsField(serializers.Field):
    """The standing human decision of each label set, blind second reviews left out."""

    def __init__(self, **kwargs):
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, meme) -> list:
        # The extension's context names the (meme, label set) pairs under a blind second
        # review for this user; their first decision is left out until the second exists.
        blind = self.context.get("blind", set())
        labels = [
            c for c in selectors.meme_human_labels(meme) if (meme.pk, c.label_set_id) not in blind
        ]
        return HumanLabelSerializer(labels, many=True, context=self.context).data


@extend_schema_field(OpenApiTypes.STR)
class CurrentTextField(serializers.ReadOnlyField):
    """The moderators' latest text, else the OCR text (as the review page shows it).

    Annotated by moderation.selectors.memes.memes_with_current_text, the one reader of it.
    """

    def __init__(self, **kwargs):
        super().__init__(source="current_text", **kwargs)


@extend_schema_field(SuggestedLabelSerializer(many=True))
class SuggestedLabelsField(serializers.Field):
    """Repost label suggestions, worked out by the extension's detail context."""

    def __init__(self, **kwargs):
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, meme) -> list:
        return SuggestedLabelSerializer(self.context.get("suggestions", []), many=True).data


class PairAgreementSerializer(serializers.Serializer):
    first = serializers.CharField()
    second = serializers.CharField()
    n = serializers.IntegerField(help_text="Memes both moderators rated.")
    observed = serializers.FloatField()
    kappa = serializers.FloatField(allow_null=True, help_text="Cohen's kappa.")


class AgreementSerializer(serializers.Serializer):
    items = serializers.IntegerField(help_text="Memes rated by two or more moderators.")
    ratings = serializers.IntegerField()
    observed = serializers.FloatField(allow_null=True)
    fleiss_kappa = serializers.FloatField(allow_null=True)
    gwet_ac1 = serializers.FloatField(allow_null=True)
    pairs = PairAgreementSerializer(many=True)
    second_reviews_open = serializers.IntegerField()
    second_reviews_done = serializers.IntegerField()
    rate = serializers.FloatField(help_text="DOUBLE_REVIEW_RATE: share sent to a second moderator.")


class CorrectionSerializer(serializers.ModelSerializer):
    meme = serializers.IntegerField(source="meme_id")
    label_set = serializers.CharField(source="label_set.name")
    moderator = serializers.CharField(source="moderator.username", allow_null=True, default=None)
    model_version = serializers.CharField(
        source="model_version.version", allow_null=True, default=None
    )

    class Meta:
        model = LabelCorrection
        fields = [
            "id",
            "meme",
            "label_set",
            "old_label",
            "new_label",
            "predicted_label",
            "unusable",
            "text_changed",
            "old_text",
            "new_text",
            "moderator",
            "source",
            "model_version",
            "created_at",
        ]


# --- Input -----------------------------------------------------------------------------------


class CorrectionRequestSerializer(serializers.Serializer):
    label_set = serializers.SlugRelatedField(slug_field="name", queryset=LabelSet.objects.all())
    label = StrictCharField(
        required=False,
        max_length=64,
        help_text="One of the label set's classes. Left out with `text`: the label standing "
        "(human, else predicted) is kept.",
    )
    unusable = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Not a meme, or unusable for this label set (instead of a label).",
    )
    text = StrictCharField(
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        max_length=CORRECTED_TEXT_MAX_LENGTH,
        help_text="The corrected text of the meme (what OCR should have read).",
    )
    seen_correction_id = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=MAX_ID,
        help_text="The human label's correction_id you based this on (null: none). Sending "
        "this or seen_text_correction_id turns on the stale check: 409 if another decision "
        "was made since.",
    )
    seen_text_correction_id = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=MAX_ID,
        help_text="The latest text correction you saw (null: none); checked when `text` is sent.",
    )

    def validate(self, attrs: dict) -> dict:
        label_set: LabelSet = attrs["label_set"]
        label = attrs.get("label")
        if label is not None and attrs.get("unusable"):
            raise serializers.ValidationError(
                {"label": "Send either a label or unusable: true, not both."}
            )
        if label is not None and label not in label_set.classes:
            classes = ", ".join(label_set.classes)
            raise serializers.ValidationError(
                {"label": f"{label!r} is not a class of {label_set.name} ({classes})."}
            )
        if label is None and not attrs.get("unusable") and "text" not in attrs:
            raise serializers.ValidationError(
                {"label": "Send a label, unusable: true, or a corrected text."}
            )
        attrs["check_stale"] = "seen_correction_id" in attrs or "seen_text_correction_id" in attrs
        return attrs


class AgreementQuerySerializer(QuerySerializer):
    label_set = serializers.SlugRelatedField(
        slug_field="name",
        queryset=LabelSet.objects.all(),
        required=False,
        help_text="Default: the default label set (MODERATION_DEFAULT_LABEL_SET).",
    )


class PromoteRequestSerializer(serializers.Serializer):
    confirm = serializers.BooleanField(
        default=False,
        help_text="Promote even though the promotion gate did not approve the version "
        "(without it such a version answers 409 `gate_not_approved` with the reason).",
    )
