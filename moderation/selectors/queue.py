"""Reads behind the review queue: which memes still need a human, in what order."""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import (
    Case,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.utils import timezone

from classifier.models import LabelSet, Meme, Prediction
from moderation.autodecisions import auto_decided_meme_ids
from moderation.models import LabelCorrection, ReviewLease, ReviewSkip
from moderation.selectors.agreement import second_reviews_open

ORDER_UNCERTAIN = "uncertain"
ORDER_NEWEST = "newest"
ORDER_ALERT = "alert"
ORDER_FAILED = "failed"
ORDER_CHOICES = [
    (ORDER_UNCERTAIN, "Most uncertain first"),
    (ORDER_NEWEST, "Newest first"),
    (ORDER_ALERT, "Most likely alert class first"),
    (ORDER_FAILED, "Failed first"),
]


@dataclass(frozen=True)
class QueueFilters:
    """What a moderator narrowed the queue to; every field optional."""

    status: str = ""
    predicted_label: str = ""
    confidence_min: float | None = None
    confidence_max: float | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    uploader: str = ""
    model_version: int | None = None
    order: str = ORDER_UNCERTAIN


def skip_window() -> dt.timedelta:
    return dt.timedelta(seconds=settings.MODERATION_SKIP_SECONDS)


def label_set_list() -> QuerySet[LabelSet]:
    return LabelSet.objects.order_by("name")


def label_set_get(*, name: str | None) -> LabelSet | None:
    """Return the named label set, or the default one when no name is given."""
    label_sets = label_set_list()
    if name:
        return label_sets.filter(name=name).first()
    default = settings.MODERATION_DEFAULT_LABEL_SET
    return label_sets.filter(name=default).first() or label_sets.first()


def _latest_prediction(label_set: LabelSet) -> QuerySet[Prediction]:
    return Prediction.objects.filter(meme=OuterRef("pk"), label_set=label_set).order_by(
        "-created_at", "-id"
    )


def memes_with_prediction(
    *, label_set: LabelSet, queryset: QuerySet[Meme] | None = None
) -> QuerySet[Meme]:
    """Annotate memes with their latest prediction for the label set (pred_*)."""
    latest = _latest_prediction(label_set)
    queryset = Meme.objects.all() if queryset is None else queryset
    queryset = queryset.annotate(
        pred_id=Subquery(latest.values("id")[:1]),
        pred_label=Subquery(latest.values("label")[:1]),
        pred_confidence=Subquery(latest.values("confidence")[:1]),
        pred_margin=Subquery(latest.values("margin")[:1]),
        pred_model_version_id=Subquery(latest.values("model_version_id")[:1]),
    )
    if label_set.alert_class:
        alert_p = Cast(KT(f"probabilities__{label_set.alert_class}"), FloatField())
        queryset = queryset.annotate(
            pred_alert_p=Subquery(
                latest.annotate(p=alert_p).values("p")[:1], output_field=FloatField()
            )
        )
    else:
        queryset = queryset.annotate(pred_alert_p=Value(None, output_field=FloatField()))
    return queryset


def _ordered(queryset: QuerySet[Meme], order: str) -> QuerySet[Meme]:
    uncertain = [F("pred_margin").asc(nulls_last=True), "created_at", "id"]
    if order == ORDER_NEWEST:
        return queryset.order_by("-created_at", "-id")
    if order == ORDER_ALERT:
        return queryset.order_by(F("pred_alert_p").desc(nulls_last=True), *uncertain)
    if order == ORDER_FAILED:
        failed_first = Case(
            When(status=Meme.Status.FAILED, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        )
        return queryset.annotate(failed_first=failed_first).order_by("failed_first", *uncertain)
    return queryset.order_by(*uncertain)


def _filtered(queryset: QuerySet[Meme], filters: QueueFilters) -> QuerySet[Meme]:
    if filters.status:
        queryset = queryset.filter(status=filters.status)
    if filters.predicted_label:
        queryset = queryset.filter(pred_label=filters.predicted_label)
    if filters.confidence_min is not None:
        queryset = queryset.filter(pred_confidence__gte=filters.confidence_min)
    if filters.confidence_max is not None:
        queryset = queryset.filter(pred_confidence__lte=filters.confidence_max)
    if filters.date_from:
        queryset = queryset.filter(created_at__date__gte=filters.date_from)
    if filters.date_to:
        queryset = queryset.filter(created_at__date__lte=filters.date_to)
    if filters.uploader:
        queryset = queryset.filter(uploader__username=filters.uploader)
    if filters.model_version:
        queryset = queryset.filter(pred_model_version_id=filters.model_version)
    return queryset


def _decided(label_set: LabelSet, moderator) -> QuerySet:
    """Meme ids that are done: decided, and not waiting for this moderator's second opinion."""
    waiting = second_reviews_open(label_set=label_set, moderator=moderator).values("meme_id")
    return (
        LabelCorrection.objects.filter(label_set=label_set)
        .exclude(meme_id__in=waiting)
        .values("meme_id")
    )


def leased_by_others(
    *, label_set: LabelSet, moderator, now: dt.datetime | None = None
) -> QuerySet[ReviewLease]:
    now = now or timezone.now()
    leases = ReviewLease.objects.filter(label_set=label_set, expires_at__gt=now)
    if moderator is not None:
        leases = leases.exclude(moderator=moderator)
    return leases


def queue_memes(
    *,
    label_set: LabelSet,
    filters: QueueFilters | None = None,
    moderator=None,
    now: dt.datetime | None = None,
) -> QuerySet[Meme]:
    """Memes without a human or automatic decision for the label set, filtered and ordered.

    Automatic decisions drawn for audit stay in the queue: that is the audit.
    Memes another moderator holds a live lease on are left out, so the same
    meme is never served to two people at once.
    """
    decided = _decided(label_set, moderator)
    leased = leased_by_others(label_set=label_set, moderator=moderator, now=now)
    queryset = (
        Meme.objects.exclude(pk__in=decided)
        .exclude(pk__in=leased.values("meme_id"))
        .exclude(pk__in=auto_decided_meme_ids(label_set=label_set))
    )
    queryset = memes_with_prediction(
        label_set=label_set, queryset=queryset.select_related("uploader")
    )
    filters = filters or QueueFilters()
    return _ordered(_filtered(queryset, filters), filters.order)


def queue_candidates(
    *,
    label_set: LabelSet,
    moderator,
    filters: QueueFilters | None = None,
    now: dt.datetime | None = None,
) -> QuerySet[Meme]:
    """The queue as served to one moderator: without what they skipped lately."""
    now = now or timezone.now()
    skipped = ReviewSkip.objects.filter(
        label_set=label_set, moderator=moderator, created_at__gt=now - skip_window()
    ).values("meme_id")
    return queue_memes(label_set=label_set, filters=filters, moderator=moderator, now=now).exclude(
        pk__in=skipped
    )


def queue_size(*, label_set: LabelSet) -> int:
    """Memes still waiting for a human decision (second opinions included), leases ignored."""
    decided = _decided(label_set, None)
    auto = auto_decided_meme_ids(label_set=label_set)
    return Meme.objects.exclude(pk__in=decided).exclude(pk__in=auto).count()


def queue_sizes() -> list[tuple[LabelSet, int]]:
    return [(label_set, queue_size(label_set=label_set)) for label_set in label_set_list()]


def queue_leased_count(*, label_set: LabelSet, moderator) -> int:
    """How many undecided memes other moderators are reviewing right now."""
    decided = LabelCorrection.objects.filter(label_set=label_set).values("meme_id")
    return (
        leased_by_others(label_set=label_set, moderator=moderator)
        .exclude(meme_id__in=decided)
        .count()
    )
