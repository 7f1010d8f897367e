"""Writes: a confident prediction becomes an automatic decision; a moderator reverts one."""

import hashlib

from django.db import transaction
from django.utils import timezone

from classifier.autodecisions.models import AutoDecision
from classifier.models import Prediction
from classifier.webhooks.services import webhook_event_emit


def auto_decision_apply(*, prediction: Prediction) -> AutoDecision | None:
    """Let a prediction stand without a human when its label set's threshold allows.

    The threshold applies only to the model version it was derived for. A
    deterministic share of the decisions (by a hash of the image) is marked for
    audit, so the queue still shows moderators a sample of them.
    """
    label_set = prediction.label_set
    if (
        label_set.auto_threshold is None
        or label_set.auto_threshold_version_id != prediction.model_version_id
        or prediction.confidence < label_set.auto_threshold
    ):
        return None
    draw = hashlib.sha256(f"audit:{label_set.name}:{prediction.meme.sha256}".encode()).hexdigest()
    audit = int(draw[:8], 16) / 2**32 < label_set.auto_audit_rate
    decision = AutoDecision.objects.create(
        prediction=prediction, threshold=label_set.auto_threshold, audit=audit
    )
    webhook_event_emit(
        type="meme.auto_decided",
        meme_id=prediction.meme_id,
        details=_auto_decision_details(decision),
    )
    return decision


def _auto_decision_details(decision: AutoDecision) -> dict:
    prediction = decision.prediction
    return {
        "label_set": prediction.label_set.name,
        "label": prediction.label,
        "confidence": prediction.confidence,
        "threshold": decision.threshold,
        "audit": decision.audit,
    }


@transaction.atomic
def auto_decision_revert(*, decision: AutoDecision, moderator) -> AutoDecision:
    """Undo an automatic decision: the meme goes back to the review queue."""
    if decision.reverted_at is None:
        decision.reverted_at = timezone.now()
        decision.reverted_by = moderator
        decision.save(update_fields=["reverted_at", "reverted_by"])
        prediction = decision.prediction
        webhook_event_emit(
            type="meme.auto_reverted",
            meme_id=prediction.meme_id,
            details={
                "label_set": prediction.label_set.name,
                "label": prediction.label,
                "moderator": getattr(moderator, "username", None),
            },
        )
    return decision
