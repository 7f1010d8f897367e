"""Output of POST /classify/: the predictions of an image that is not stored."""

from rest_framework import serializers

from classifier.api.serializers.memes import ExplanationSerializer
from classifier.services import ImageResult, probability_stats
from classifier.validation import NormalisedImage


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
