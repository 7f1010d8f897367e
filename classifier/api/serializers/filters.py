"""Query parameters of the list endpoints."""

import dataclasses

from rest_framework import serializers

from classifier.api import selectors
from classifier.api.serializers.fields import ProbabilityField, QuerySerializer
from classifier.extensions import meme_extensions
from classifier.models import LabelSet, Meme


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

    def get_fields(self) -> dict:
        fields = super().get_fields()
        for extension in meme_extensions():
            fields.update(extension.filter_fields())
        return fields

    def validate(self, attrs: dict) -> dict:
        scope = selectors.label_set_for_filters(label_set=attrs.get("label_set"))
        value = attrs.get("predicted_label")
        if value is not None and (scope is None or value not in scope.classes):
            raise serializers.ValidationError(
                {"predicted_label": not_a_class(value, label_set=scope)}
            )
        for extension in meme_extensions():
            extension.validate_filters(attrs, label_set=scope)
        low, high = attrs.get("confidence_min"), attrs.get("confidence_max")
        if low is not None and high is not None and low > high:
            raise serializers.ValidationError(
                {"confidence_min": "confidence_min is larger than confidence_max."}
            )
        return attrs

    def to_filters(self) -> selectors.MemeFilters:
        known = {f.name for f in dataclasses.fields(selectors.MemeFilters)}
        data = self.validated_data
        extra = {name: value for name, value in data.items() if name not in known}
        own = {name: value for name, value in data.items() if name in known}
        return selectors.MemeFilters(**own, extra=extra)


def not_a_class(value: str, *, label_set: LabelSet | None, also: tuple[str, ...] = ()) -> str:
    """The error of a label filter whose value `label_set` has no class for."""
    allowed = [*(label_set.classes if label_set is not None else []), *also]
    where = label_set.name if label_set is not None else "any label set"
    return f"{value!r} is not a class of {where} ({', '.join(allowed)})."


class ModelVersionFilterSerializer(QuerySerializer):
    label_set = serializers.SlugRelatedField(
        slug_field="name", queryset=LabelSet.objects.all(), required=False
    )
