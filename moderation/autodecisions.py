"""Automatic decisions, the human side: derive the threshold, measure the audits' precision.

The feature lives in classifier/autodecisions/ (its package docstring maps every part).
The classifier marks a prediction as an automatic decision when its label set's threshold
allows (classifier.autodecisions.services.auto_decision_apply). This module owns what
needs human labels: the threshold comes from predictions moderators have checked, and the
audits moderators review give the live estimate of the decisions' precision.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from classifier.models import AutoDecision, LabelSet, ModelVersion, Prediction
from classifier.selectors import model_version_active
from ml.decisions import threshold_for_precision, wilson_interval
from moderation.models import LabelCorrection
from moderation.selectors.memes import human_labels


@transaction.atomic
def auto_policy_update(
    *, label_set: LabelSet, target_precision: float | None, audit_rate: float
) -> LabelSet:
    """Set the precision automatic decisions must reach (None: off) and the audit share."""
    if target_precision is not None and not 0.5 <= target_precision < 1:
        raise ValueError("the target precision must be at least 0.5 and below 1")
    if not 0 <= audit_rate <= 1:
        raise ValueError("the audit rate must be between 0 and 1")
    label_set.auto_target_precision = target_precision
    label_set.auto_audit_rate = audit_rate
    label_set.save(update_fields=["auto_target_precision", "auto_audit_rate"])
    return auto_threshold_refresh(label_set=label_set)


def checked_predictions(*, label_set: LabelSet, version: ModelVersion) -> list[tuple[float, bool]]:
    """(confidence, was it right) for each meme a human labelled that `version` predicted."""
    human = dict(human_labels(label_set=label_set).values_list("meme_id", "new_label"))
    latest_prediction = (
        Prediction.objects.filter(label_set=label_set, model_version=version, meme_id__in=human)
        .values("meme_id")
        .annotate(latest=Max("id"))
        .values("latest")
    )
    rows = Prediction.objects.filter(id__in=latest_prediction).values_list(
        "meme_id", "label", "confidence"
    )
    return [(confidence, label == human[meme_id]) for meme_id, label, confidence in rows]


@transaction.atomic
def auto_threshold_refresh(*, label_set: LabelSet) -> LabelSet:
    """Derive the threshold for the active version from the human-checked predictions."""
    label_set = LabelSet.objects.select_for_update().get(pk=label_set.pk)
    version = model_version_active(label_set=label_set)
    threshold, evidence = None, {}
    if label_set.auto_target_precision is not None and version is not None:
        pairs = checked_predictions(label_set=label_set, version=version)
        threshold, evidence = threshold_for_precision(
            [c for c, _ in pairs], [ok for _, ok in pairs], label_set.auto_target_precision
        )
        evidence = {**evidence, "checked": len(pairs), "derived_at": timezone.now().isoformat()}
    label_set.auto_threshold = threshold
    label_set.auto_threshold_version = version if threshold is not None else None
    label_set.auto_threshold_evidence = evidence
    label_set.save(
        update_fields=["auto_threshold", "auto_threshold_version", "auto_threshold_evidence"]
    )
    return label_set


@dataclass(frozen=True)
class AutoSummary:
    target: float | None
    threshold: float | None
    evidence: dict
    decided: int
    audits: int
    audits_reviewed: int
    audits_agreed: int
    precision: float | None
    interval: tuple[float, float] | None


def auto_summary(*, label_set: LabelSet) -> AutoSummary:
    """Counts of automatic decisions and the audits' estimate of their precision (95% Wilson)."""
    decisions = AutoDecision.objects.filter(
        prediction__label_set=label_set, reverted_at__isnull=True
    ).select_related("prediction")
    audits = [d for d in decisions if d.audit]
    # Every human decision on the audited memes in one query, oldest first.
    reviews: dict[int, list[LabelCorrection]] = {}
    for c in (
        LabelCorrection.objects.filter(
            label_set=label_set, meme_id__in=[d.prediction.meme_id for d in audits]
        )
        .exclude(
            source__in=[
                LabelCorrection.Source.IMPORT,
                LabelCorrection.Source.UNDO,
                LabelCorrection.Source.REOPEN,
            ]
        )
        .filter(undone_by__isnull=True)  # a review its moderator took back is no audit
        .order_by("id")
    ):
        reviews.setdefault(c.meme_id, []).append(c)
    reviewed = agreed = 0
    for d in audits:
        later = (c for c in reviews.get(d.prediction.meme_id, []) if c.created_at >= d.created_at)
        review = next(later, None)
        if review is not None and not review.unusable:
            reviewed += 1
            agreed += review.new_label == d.prediction.label
    return AutoSummary(
        target=label_set.auto_target_precision,
        threshold=label_set.auto_threshold,
        evidence=label_set.auto_threshold_evidence or {},
        decided=len(decisions),
        audits=len(audits),
        audits_reviewed=reviewed,
        audits_agreed=agreed,
        precision=agreed / reviewed if reviewed else None,
        interval=wilson_interval(agreed, reviewed) if reviewed else None,
    )
