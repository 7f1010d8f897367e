"""Reads behind the dashboard: how busy the moderators are and how good the model is."""

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from django.db.models import Count, F, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from classifier.models import LabelSet, ModelVersion, Prediction
from classifier.selectors import model_version_active
from ml import metrics
from moderation.models import LabelCorrection, RetrainRun
from moderation.selectors.memes import human_labels

RELIABILITY_BINS = metrics.RELIABILITY_BINS


def model_versions(*, label_set: LabelSet) -> QuerySet[ModelVersion]:
    return ModelVersion.objects.filter(label_set=label_set).order_by("-created_at", "-id")


def _activated_at(version: ModelVersion) -> dt.datetime:
    return version.activated_at or version.created_at


@dataclass(frozen=True)
class LabelPair:
    """A human label next to what the model predicted for the same meme."""

    meme_id: int
    human: str
    predicted: str
    confidence: float


def model_label_pairs(
    *, version: ModelVersion, since: dt.datetime | None = None
) -> list[LabelPair]:
    """Pair the version's latest prediction with the human label, per meme.

    With ``since``, only human labels decided at or after that moment count.
    """
    labels = human_labels(label_set=version.label_set)
    if since is not None:
        labels = labels.filter(created_at__gte=since)
    human_by_meme = dict(labels.values_list("meme_id", "new_label"))
    predictions = (
        Prediction.objects.filter(model_version=version, meme_id__in=labels.values("meme_id"))
        .order_by("meme_id", "created_at", "id")
        .values_list("meme_id", "label", "confidence")
    )
    # Ordered oldest first, so the dict keeps each meme's latest prediction.
    latest = {meme_id: (label, conf) for meme_id, label, conf in predictions}
    return [
        LabelPair(meme_id, human_by_meme[meme_id], label, float(conf or 0.0))
        for meme_id, (label, conf) in sorted(latest.items())
    ]


def macro_f1(pairs: list[LabelPair], *, classes: list[str] | None = None) -> float:
    """Macro-F1 (ml.metrics: the mean over all classes) of the model against the moderators.

    `classes` are the label set's classes; labels outside them (an old model, a renamed
    class) are counted as classes too rather than dropped.
    """
    seen = sorted({p.human for p in pairs} | {p.predicted for p in pairs})
    order = list(classes or []) + [c for c in seen if c not in (classes or [])]
    if not order:
        return 0.0
    index = {c: i for i, c in enumerate(order)}
    return metrics.macro_f1(
        [index[p.human] for p in pairs], [index[p.predicted] for p in pairs], len(order)
    )


@dataclass(frozen=True)
class Agreement:
    version: ModelVersion
    since: dt.datetime
    n: int
    accuracy: float | None
    macro_f1: float | None


def model_agreement(*, label_set: LabelSet) -> Agreement | None:
    """How often the active model agrees with moderators since it went live."""
    version = model_version_active(label_set=label_set)
    if version is None:
        return None
    since = _activated_at(version)
    pairs = model_label_pairs(version=version, since=since)
    if not pairs:
        return Agreement(version, since, 0, None, None)
    accuracy = sum(p.human == p.predicted for p in pairs) / len(pairs)
    f1 = macro_f1(pairs, classes=list(label_set.classes))
    return Agreement(version, since, len(pairs), accuracy, f1)


@dataclass(frozen=True)
class Confusion:
    classes: list[str]
    # matrix[i][j]: memes humans labelled classes[i] that the model called classes[j]
    matrix: list[list[int]]
    n: int

    @property
    def rows(self) -> list[tuple[str, list[int]]]:
        return list(zip(self.classes, self.matrix, strict=True))


def confusion_matrix(*, classes: list[str], pairs: list[LabelPair]) -> Confusion:
    # Labels outside the label set's classes (an old model, a renamed class)
    # still get a row and column rather than vanishing from the counts.
    extra = sorted(({p.human for p in pairs} | {p.predicted for p in pairs}) - set(classes))
    order = list(classes) + extra
    index = {cls: i for i, cls in enumerate(order)}
    matrix = [[0] * len(order) for _ in order]
    for p in pairs:
        matrix[index[p.human]][index[p.predicted]] += 1
    return Confusion(order, matrix, len(pairs))


@dataclass(frozen=True)
class ReliabilityBin:
    low: float
    high: float
    count: int
    mean_confidence: float | None
    accuracy: float | None


@dataclass(frozen=True)
class Reliability:
    bins: list[ReliabilityBin]
    n: int
    ece: float | None = field(default=None)


def reliability(*, pairs: list[LabelPair], n_bins: int = RELIABILITY_BINS) -> Reliability:
    """Bin predictions by confidence; compare each bin's confidence to its accuracy (ml.metrics)."""
    bins = metrics.reliability_bins_from(
        [p.confidence for p in pairs], [p.human == p.predicted for p in pairs], n_bins
    )
    return Reliability(
        [
            ReliabilityBin(b["lo"], b["hi"], b["count"], b["confidence"], b["accuracy"])
            for b in bins
        ],
        len(pairs),
        metrics.ece_from_bins(bins),
    )


def active_model_pairs(*, label_set: LabelSet) -> list[LabelPair]:
    """All human-decided memes the active model has a prediction for."""
    version = model_version_active(label_set=label_set)
    return [] if version is None else model_label_pairs(version=version)


@dataclass(frozen=True)
class DecisionsPerDay:
    days: list[dt.date]
    moderators: list[str]
    # counts[day][moderator]
    counts: dict[dt.date, dict[str, int]]

    @property
    def rows(self) -> list[tuple[dt.date, list[int], int]]:
        """(day, count per moderator in ``moderators`` order, day total)."""
        rows = []
        for day in self.days:
            counts = [self.counts[day][m] for m in self.moderators]
            rows.append((day, counts, sum(counts)))
        return rows


def decisions_per_day(*, days: int = 14, now: dt.datetime | None = None) -> DecisionsPerDay:
    """Human decisions per day per moderator over the last ``days`` days."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    first = today - dt.timedelta(days=days - 1)
    rows = (
        LabelCorrection.objects.filter(moderator__isnull=False, created_at__date__gte=first)
        # Undos and reopens are not decisions, and an undone decision no longer counts.
        .exclude(source__in=[LabelCorrection.Source.UNDO, LabelCorrection.Source.REOPEN])
        .filter(undone_by__isnull=True)
        .annotate(day=TruncDate("created_at"), username=F("moderator__username"))
        .values("day", "username")
        .annotate(n=Count("id"))
    )
    counts: dict[dt.date, Counter] = {first + dt.timedelta(days=i): Counter() for i in range(days)}
    for row in rows:
        if row["day"] in counts:
            counts[row["day"]][row["username"]] += row["n"]
    moderators = sorted({name for c in counts.values() for name in c})
    ordered_days = sorted(counts, reverse=True)
    return DecisionsPerDay(
        ordered_days,
        moderators,
        {day: {m: counts[day][m] for m in moderators} for day in ordered_days},
    )


def corrections_waiting_for_retrain(*, label_set: LabelSet) -> int:
    """Human labels newer than the model that would learn from them."""
    corrections = LabelCorrection.objects.filter(label_set=label_set)
    version = model_version_active(label_set=label_set)
    if version is not None:
        corrections = corrections.filter(created_at__gt=version.created_at)
    return corrections.count()


def recent_disagreements(*, label_set: LabelSet, limit: int = 12) -> QuerySet[LabelCorrection]:
    """Latest decisions where a human overruled the model's prediction."""
    return (
        LabelCorrection.objects.filter(label_set=label_set, unusable=False, undone_by__isnull=True)
        .exclude(predicted_label="")
        .exclude(new_label="")
        .exclude(new_label=F("predicted_label"))
        .select_related("meme", "moderator", "model_version")
        .order_by("-id")[:limit]
    )


def retrain_runs(*, label_set: LabelSet, limit: int = 8) -> list[RetrainRun]:
    """The latest retrain runs, newest first, with the versions they compared."""
    return list(
        RetrainRun.objects.filter(label_set=label_set)
        .select_related("new_version", "compared_with", "triggered_by")
        .order_by("-created_at", "-id")[:limit]
    )
