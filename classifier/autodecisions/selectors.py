"""Reads: a prediction's automatic decision, the memes automatic decisions settle."""

from classifier.autodecisions.models import AutoDecision
from classifier.models import LabelSet, Prediction


def auto_decision_for(*, prediction: Prediction) -> AutoDecision | None:
    return AutoDecision.objects.filter(prediction=prediction).first()


def auto_decided_meme_ids(*, label_set: LabelSet):
    """Memes an automatic decision settles (not reverted, not drawn for audit): not queued."""
    return AutoDecision.objects.filter(
        prediction__label_set=label_set, reverted_at__isnull=True, audit=False
    ).values("prediction__meme_id")
