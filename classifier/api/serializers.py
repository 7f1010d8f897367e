"""Input parsing and output shapes of the API; no business logic."""

import math

from django.conf import settings
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from classifier.api import selectors
from classifier.api.uploads import image_from_upload, image_from_url
from classifier.models import (
    AutoDecision,
    LabelSet,
    Meme,
    ModelVersion,
    Prediction,
    user_sees_all_memes,
)
from classifier.reposts import selectors as repost_selectors
from classifier.services import ImageResult, probability_stats
from classifier.validation import NormalisedImage
from moderation.models import LabelCorrection

TEXT_MAX_LENGTH = 2000  # as the upload form's caption
CORRECTED_TEXT_MAX_LENGTH = 20_000

# --- Output ----------------------------------------------------------------------------------


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
        if not _sees_all(self.context) or correction.moderator is None:
            return None
        return correction.moderator.username

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_label(self, correction: LabelCorrection) -> str | None:
        return None if correction.unusable else correction.new_label


def _user(context: dict):
    request = context.get("request")
    return getattr(request, "user", None)


def _sees_all(context: dict) -> bool:
    return user_sees_all_memes(_user(context))


class MemeSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text="This meme in the API.")
    page_url = serializers.SerializerMethodField(help_text="This meme's web page.")
    image_url = serializers.SerializerMethodField(help_text="The stored (normalised) image.")
    text = serializers.SerializerMethodField(
        help_text="The text models read: the moderators' correction, else the OCR text."
    )
    uploader = serializers.CharField(source="uploader.username", allow_null=True, default=None)
    predictions = serializers.SerializerMethodField(
        help_text="The latest prediction of each label set."
    )
    human_labels = serializers.SerializerMethodField(
        help_text="The standing human decision of each label set that has one."
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

    class Meta:
        model = Meme
        fields = [
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

    def get_text(self, meme: Meme) -> str:
        return selectors.meme_current_text(meme)

    @extend_schema_field(PredictionSerializer(many=True))
    def get_predictions(self, meme: Meme) -> list:
        return PredictionSerializer(selectors.meme_latest_predictions(meme), many=True).data

    @extend_schema_field(HumanLabelSerializer(many=True))
    def get_human_labels(self, meme: Meme) -> list:
        # The view passes the (meme, label set) pairs under a blind second review for
        # this user; their first decision is left out until the second one exists.
        blind = self.context.get("blind", set())
        labels = [
            c for c in selectors.meme_human_labels(meme) if (meme.pk, c.label_set_id) not in blind
        ]
        return HumanLabelSerializer(labels, many=True, context=self.context).data


class RepostClusterSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="cluster_id", allow_null=True)
    reposts = serializers.IntegerField(
        source="count", help_text="Other memes with a near-identical picture."
    )
    meme_ids = serializers.SerializerMethodField(help_text="The first 12 of them, oldest first.")

    def get_meme_ids(self, reposts_found: repost_selectors.Reposts) -> list[int]:
        return [meme.pk for meme in reposts_found.memes]


class SuggestedLabelSerializer(serializers.Serializer):
    label_set = serializers.CharField(source="label_set.name")
    label = serializers.CharField()
    votes = serializers.IntegerField(help_text="Reposts whose standing human label this is.")
    labelled = serializers.IntegerField(help_text="Reposts with a standing human label.")


class MemeDetailSerializer(MemeSerializer):
    repost_cluster = serializers.SerializerMethodField(
        help_text="The meme's repost cluster (near-identical pictures); null before it is hashed."
    )
    suggested_labels = serializers.SerializerMethodField(
        help_text="Per label set, the human label moderators gave most of its reposts."
    )

    class Meta(MemeSerializer.Meta):
        fields = [*MemeSerializer.Meta.fields, "repost_cluster", "suggested_labels"]

    @extend_schema_field(RepostClusterSerializer(allow_null=True))
    def get_repost_cluster(self, meme: Meme) -> dict | None:
        # Only the reposts this user may see: others' memes are not even counted.
        found = repost_selectors.meme_reposts(meme=meme, user=_user(self.context))
        return None if found.cluster_id is None else RepostClusterSerializer(found).data

    @extend_schema_field(SuggestedLabelSerializer(many=True))
    def get_suggested_labels(self, meme: Meme) -> list:
        # Drawn from other users' memes and moderators' decisions: a moderation aid,
        # hidden where this moderator owes a blind second opinion.
        if not _sees_all(self.context):
            return []
        blind = self.context.get("blind", set())
        suggestions = [
            s
            for s in repost_selectors.meme_label_suggestions(meme=meme)
            if (meme.pk, s.label_set.pk) not in blind
        ]
        return SuggestedLabelSerializer(suggestions, many=True).data


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


class LabelSetSerializer(serializers.ModelSerializer):
    classes = serializers.ListField(child=serializers.CharField())
    active_version = serializers.SerializerMethodField(
        help_text="The model version new memes are classified with; null when none is."
    )

    class Meta:
        model = LabelSet
        fields = ["name", "classes", "alert_class", "description", "active_version"]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_active_version(self, label_set: LabelSet) -> str | None:
        active = label_set.active_versions
        return active[0].version if active else None


class ModelVersionSerializer(serializers.ModelSerializer):
    label_set = serializers.CharField(source="label_set.name")
    metrics = serializers.DictField(help_text="Evaluation metrics on the held-out test split.")
    training_counts = serializers.DictField(help_text="Examples per class it was trained on.")
    parent = serializers.CharField(source="parent.version", allow_null=True, default=None)
    triggered_by = serializers.CharField(
        source="triggered_by.username", allow_null=True, default=None
    )

    class Meta:
        model = ModelVersion
        fields = [
            "id",
            "version",
            "label_set",
            "is_active",
            "metrics",
            "training_counts",
            "parent",
            "triggered_by",
            "created_at",
            "activated_at",
        ]


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


class ClassificationSerializer(serializers.Serializer):
    label_set = serializers.CharField()
    label = serializers.CharField()
    probabilities = serializers.DictField(child=serializers.FloatField())
    confidence = serializers.FloatField()
    margin = serializers.FloatField()
    entropy = serializers.FloatField()
    model_version = serializers.CharField()
    duration_ms = serializers.IntegerField()
    explanation = ExplanationSerializer(allow_null=True)


class ClassifyResultSerializer(serializers.Serializer):
    ocr_text = serializers.CharField(allow_blank=True)
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    offensive_score = serializers.FloatField(allow_null=True, help_text="As on a meme.")
    nsfw_score = serializers.FloatField(allow_null=True, help_text="As on a meme.")
    results = ClassificationSerializer(many=True)


def classify_result(*, outcome: ImageResult, image: NormalisedImage) -> dict:
    """The body of POST /classify/: one entry per label set, shaped like a Prediction."""
    results = []
    for result in outcome.results:
        c = result.classification
        confidence, margin, entropy = probability_stats(c.probabilities)
        results.append(
            {
                "label_set": result.model_version.label_set.name,
                "label": c.label,
                "probabilities": c.probabilities,
                "confidence": confidence,
                "margin": margin,
                "entropy": entropy,
                "model_version": result.model_version.version,
                "duration_ms": c.duration_ms,
                "explanation": c.explanation or None,
            }
        )
    data = {
        "ocr_text": outcome.ocr_text,
        "width": image.width,
        "height": image.height,
        "offensive_score": outcome.offensive_score,
        "nsfw_score": outcome.nsfw_score,
    }
    return ClassifyResultSerializer({**data, "results": results}).data


# --- Input -----------------------------------------------------------------------------------


class StrictCharField(serializers.CharField):
    """A string, and only a string: DRF's CharField would turn 12 into "12"."""

    def to_internal_value(self, data) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class _ImageUploadSerializer(serializers.Serializer):
    # Empty files reach image_from_upload, so every rejection of the file reads the same way.
    image = serializers.FileField(
        allow_empty_file=True,
        use_url=False,
        help_text="JPEG, PNG, WebP, GIF (first frame) or BMP; the type is read from the bytes.",
    )
    text = StrictCharField(
        required=False,
        allow_blank=True,
        max_length=TEXT_MAX_LENGTH,
        help_text="Text that goes with the meme; the text in the picture is read by OCR.",
    )

    max_bytes_setting = "MAX_UPLOAD_BYTES"

    def validate_image(self, upload):
        return image_from_upload(
            upload, max_bytes=getattr(settings, self.max_bytes_setting), field="image"
        )


class MemeUploadSerializer(_ImageUploadSerializer):
    image = serializers.FileField(
        required=False,
        allow_empty_file=True,
        use_url=False,
        help_text="JPEG, PNG, WebP, GIF (first frame) or BMP; the type is read from the bytes. "
        "Send this or `image_url`.",
    )
    image_url = serializers.URLField(
        required=False,
        max_length=2000,
        help_text="An http(s) URL the server fetches the image from instead (public addresses "
        "only; size and time limited; validated like a file).",
    )

    def validate(self, data: dict) -> dict:
        if ("image" in data) == ("image_url" in data):
            raise serializers.ValidationError(
                {"image": "Send either a file in `image` or a URL in `image_url`."}
            )
        if "image_url" in data:
            data["image"] = image_from_url(
                data.pop("image_url"), max_bytes=settings.MAX_UPLOAD_BYTES, field="image_url"
            )
        return data


class ClassifyRequestSerializer(_ImageUploadSerializer):
    label_set = serializers.SlugRelatedField(
        slug_field="name",
        queryset=LabelSet.objects.all(),
        required=False,
        help_text="Classify for this label set only (default: every one with an active model).",
    )

    max_bytes_setting = "API_CLASSIFY_MAX_BYTES"


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
        max_value=selectors.MAX_ID,
        help_text="The human label's correction_id you based this on (null: none). Sending "
        "this or seen_text_correction_id turns on the stale check: 409 if another decision "
        "was made since.",
    )
    seen_text_correction_id = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=selectors.MAX_ID,
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


class ProbabilityField(serializers.FloatField):
    """A float in [0, 1]; NaN, which every comparison lets through, is refused."""

    def __init__(self, **kwargs):
        super().__init__(min_value=0.0, max_value=1.0, **kwargs)

    def to_internal_value(self, data) -> float:
        value = super().to_internal_value(data)
        if math.isnan(value):
            self.fail("invalid")
        return value


class QuerySerializer(serializers.Serializer):
    """Query parameters: an empty value is an error, not "left out" as in an HTML form."""

    def to_internal_value(self, data):
        blank = [name for name in self.fields if data.get(name) == ""]
        if blank:
            raise serializers.ValidationError(
                {name: ["This parameter may not be empty."] for name in blank}
            )
        return super().to_internal_value(data)


class MemeFilterSerializer(QuerySerializer):
    """Query parameters of GET /api/v1/memes/."""

    status = serializers.ChoiceField(choices=Meme.Status.choices, required=False)
    label_set = serializers.SlugRelatedField(
        slug_field="name",
        queryset=LabelSet.objects.all(),
        required=False,
        help_text="Only memes with a prediction or a human label in this label set; the "
        "label, confidence and uncertainty parameters refer to it (default: the default "
        "label set, without narrowing the list).",
    )
    predicted_label = serializers.CharField(
        required=False, max_length=64, help_text="The latest prediction's label."
    )
    human_label = serializers.CharField(
        required=False,
        max_length=64,
        help_text="The standing human label, or `unusable`.",
    )
    confidence_min = ProbabilityField(
        required=False, help_text="Latest prediction's confidence, at least."
    )
    confidence_max = ProbabilityField(
        required=False, help_text="Latest prediction's confidence, at most."
    )
    created_after = serializers.DateTimeField(
        required=False, help_text="Uploaded at or after (ISO 8601 date or date-time)."
    )
    created_before = serializers.DateTimeField(
        required=False, help_text="Uploaded before (ISO 8601 date or date-time)."
    )
    ordering = serializers.ChoiceField(
        choices=selectors.ORDERINGS,
        required=False,
        default=f"-{selectors.ORDER_CREATED}",
        help_text="created: oldest first; -created: newest first (default); -uncertainty: "
        "most uncertain prediction first (smallest margin); uncertainty: most certain first.",
    )

    def validate(self, attrs: dict) -> dict:
        scope = selectors.label_set_for_filters(label_set=attrs.get("label_set"))
        classes = scope.classes if scope is not None else []
        for name, allowed in (
            ("predicted_label", classes),
            ("human_label", [*classes, selectors.HUMAN_UNUSABLE]),
        ):
            value = attrs.get(name)
            if value is not None and value not in allowed:
                where = scope.name if scope is not None else "any label set"
                raise serializers.ValidationError(
                    {name: f"{value!r} is not a class of {where} ({', '.join(allowed)})."}
                )
        low, high = attrs.get("confidence_min"), attrs.get("confidence_max")
        if low is not None and high is not None and low > high:
            raise serializers.ValidationError(
                {"confidence_min": "confidence_min is larger than confidence_max."}
            )
        return attrs

    def to_filters(self) -> selectors.MemeFilters:
        return selectors.MemeFilters(**self.validated_data)


class AgreementQuerySerializer(QuerySerializer):
    label_set = serializers.SlugRelatedField(
        slug_field="name",
        queryset=LabelSet.objects.all(),
        required=False,
        help_text="Default: the default label set (MODERATION_DEFAULT_LABEL_SET).",
    )


class ModelVersionFilterSerializer(QuerySerializer):
    label_set = serializers.SlugRelatedField(
        slug_field="name", queryset=LabelSet.objects.all(), required=False
    )


class PromoteRequestSerializer(serializers.Serializer):
    confirm = serializers.BooleanField(
        default=False,
        help_text="Promote even though the promotion gate did not approve the version "
        "(without it such a version answers 409 `gate_not_approved` with the reason).",
    )
