"""The automatic decision model (registered with the classifier app by classifier/models.py)."""

from django.conf import settings
from django.db import models


class AutoDecision(models.Model):
    """A prediction confident enough to stand without a human (see LabelSet.auto_*).

    Never a human label: training ignores it. Reversible: a reverted one sends the
    meme back to the review queue. An audit one stays in the queue so moderators
    check a random sample, which measures the automatic decisions' precision.
    """

    prediction = models.OneToOneField(
        "classifier.Prediction", on_delete=models.CASCADE, related_name="auto_decision"
    )
    threshold = models.FloatField()
    audit = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    reverted_at = models.DateTimeField(null=True, blank=True)
    reverted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"auto {self.prediction}"
