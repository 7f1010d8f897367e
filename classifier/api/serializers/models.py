"""Output shapes of label sets and model versions."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from classifier.models import LabelSet, ModelVersion


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
        # Prefetched by selectors.label_sets.
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
