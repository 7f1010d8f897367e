"""Reads behind the review queue: which memes still need a human, in what order."""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.utils import timezone

from classifier.autodecisions.selectors import auto_decided_meme_ids
from classifier.models import AutoDecision, LabelSet, Meme, MemeHash
from classifier.selectors import label_set_list, memes_with_prediction
from moderation.models import ReviewLease, ReviewSkip, SecondReview
from moderation.selectors.agreement import second_reviews_open
from moderation.selectors.memes import decided_meme_ids

ORDER_UNCERTAIN = "uncertain"
ORDER_NEWEST = "newest"
ORDER_ALERT = "alert"
ORDER_FAILED = "failed"
ORDER_OFFENSIVE = "offensive"
ORDER_NSFW = "nsfw"
ORDER_CHOICES = [
    (ORDER_UNCERTAIN, "Most uncertain first"),
    (ORDER_NEWEST, "Newest first"),
    (ORDER_ALERT, "Most likely alert class first"),
    (ORDER_FAILED, "Failed first"),
    (ORDER_OFFENSIVE, "Most offensive language first"),
    (ORDER_NSFW, "Most NSFW first"),
]

# A signal score (0–1) from which a meme counts as flagged by it: shown highlighted, and
# the reason "signal" in the queue.
SIGNAL_HIGH = 0.8

# Why a meme waits for a human, most specific first.
REASON_SECOND = "second"
REASON_AUDIT = "audit"
REASON_SIGNAL = "signal"
REASON_UNCERTAIN = "uncertain"
REASON_FAILED = "failed"
REASON_UNCLASSIFIED = "unclassified"
REASON_NEW = "new"
REASON_CHOICES = [
    (REASON_SECOND, "Second opinion"),
    (REASON_AUDIT, "Audit of an automatic decision"),
    (REASON_SIGNAL, "Flagged by a signal"),
    (REASON_UNCERTAIN, "Model unsure"),
    (REASON_FAILED, "Classification failed"),
    (REASON_UNCLASSIFIED, "Not classified yet"),
    (REASON_NEW, "Model sure, not checked yet"),
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
    reason: str = ""
    offensive_min: float | None = None
    nsfw_min: float | None = None
    order: str = ORDER_UNCERTAIN


def skip_window() -> dt.timedelta:
    return dt.timedelta(seconds=settings.MODERATION_SKIP_SECONDS)


def _ordered(queryset: QuerySet[Meme], order: str) -> QuerySet[Meme]:
    uncertain = [F("pred_margin").asc(nulls_last=True), "created_at", "id"]
    if order == ORDER_NEWEST:
        return queryset.order_by("-created_at", "-id")
    if order == ORDER_OFFENSIVE:
        return queryset.order_by(F("offensive_score").desc(nulls_last=True), *uncertain)
    if order == ORDER_NSFW:
        return queryset.order_by(F("nsfw_score").desc(nulls_last=True), *uncertain)
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


def _filtered(
    queryset: QuerySet[Meme], filters: QueueFilters, label_set: LabelSet
) -> QuerySet[Meme]:
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
    if filters.offensive_min is not None:
        queryset = queryset.filter(offensive_score__gte=filters.offensive_min)
    if filters.nsfw_min is not None:
        queryset = queryset.filter(nsfw_score__gte=filters.nsfw_min)
    if filters.reason:
        queryset = queryset.filter(_REASON_FILTERS[filters.reason](label_set))
    return queryset


def _signal_flagged() -> Q:
    return Q(offensive_score__gte=SIGNAL_HIGH) | Q(nsfw_score__gte=SIGNAL_HIGH)


def _reason_uncertain(label_set: LabelSet) -> Q:
    return Q(pred_confidence__lt=label_set.review_threshold)


# Each reason as a filter; a meme may wait for several reasons and then matches each.
_REASON_FILTERS = {
    REASON_SECOND: lambda ls: Q(is_second=True),
    REASON_AUDIT: lambda ls: Q(is_audit=True),
    REASON_SIGNAL: lambda ls: _signal_flagged(),
    REASON_UNCERTAIN: _reason_uncertain,
    REASON_FAILED: lambda ls: Q(status=Meme.Status.FAILED),
    REASON_UNCLASSIFIED: lambda ls: Q(pred_id__isnull=True) & ~Q(status=Meme.Status.FAILED),
    REASON_NEW: lambda ls: (
        Q(is_second=False, is_audit=False, pred_id__isnull=False)
        & ~_signal_flagged()
        & ~_reason_uncertain(ls)
        & ~Q(status=Meme.Status.FAILED)
    ),
}


def queue_reasons(*, meme: Meme, label_set: LabelSet) -> list[tuple[str, str]]:
    """Why a meme from queue_memes waits: [(code, sentence)], most specific first."""
    reasons = []
    if meme.is_second:
        reasons.append((REASON_SECOND, "Second opinion: another moderator decided it, blind"))
    if meme.is_audit:
        reasons.append((REASON_AUDIT, "Audit sample of an automatic decision"))
    flagged = []
    if meme.offensive_score is not None and meme.offensive_score >= SIGNAL_HIGH:
        flagged.append(f"offensive language {meme.offensive_score:.2f}")
    if meme.nsfw_score is not None and meme.nsfw_score >= SIGNAL_HIGH:
        flagged.append(f"NSFW {meme.nsfw_score:.2f}")
    if flagged:
        reasons.append((REASON_SIGNAL, "Signal: " + ", ".join(flagged)))
    if meme.status == Meme.Status.FAILED:
        reasons.append((REASON_FAILED, "Classification failed"))
    elif meme.pred_id is None:
        reasons.append((REASON_UNCLASSIFIED, "Not classified yet"))
    elif meme.pred_confidence < label_set.review_threshold:
        reasons.append((REASON_UNCERTAIN, f"Model unsure ({100 * meme.pred_confidence:.0f}%)"))
    if not reasons:
        reasons.append((REASON_NEW, "Model sure, not checked by a human yet"))
    return reasons


def _decided(label_set: LabelSet, moderator) -> QuerySet:
    """Meme ids that are done: decided, and not waiting for this moderator's second opinion."""
    waiting = second_reviews_open(label_set=label_set, moderator=moderator).values("meme_id")
    return decided_meme_ids(label_set=label_set).exclude(meme_id__in=waiting)


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
    leased = leased_by_others(label_set=label_set, moderator=moderator, now=now)
    queryset = queue_waiting(label_set=label_set).exclude(pk__in=leased.values("meme_id"))
    if moderator is not None:
        queryset = queryset.exclude(pk__in=_own_second_reviews(label_set, moderator))
    queryset = _with_reasons(
        memes_with_prediction(label_set=label_set, queryset=queryset.select_related("uploader")),
        label_set,
    )
    filters = filters or QueueFilters()
    return _ordered(_filtered(queryset, filters, label_set), filters.order)


def _with_reasons(queryset: QuerySet[Meme], label_set: LabelSet) -> QuerySet[Meme]:
    """Annotate what queue_reasons needs: second opinion, audit sample, repost cluster size."""
    queryset = queryset.annotate(
        is_second=Exists(
            SecondReview.objects.filter(
                meme=OuterRef("pk"), label_set=label_set, second__isnull=True
            )
        ),
        is_audit=Exists(
            AutoDecision.objects.filter(
                prediction__meme=OuterRef("pk"),
                prediction__label_set=label_set,
                audit=True,
                reverted_at__isnull=True,
            )
        ),
        cluster_size=Subquery(
            MemeHash.objects.filter(cluster_id=OuterRef("image_hash__cluster_id"))
            .values("cluster_id")
            .annotate(n=Count("pk"))
            .values("n")[:1],
            output_field=IntegerField(),
        ),
    )
    return queryset


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


def queue_waiting(*, label_set: LabelSet) -> QuerySet[Meme]:
    """Every meme waiting for a human decision in the label set, whoever may take it.

    The one definition behind both the dashboard's count and the queue page (which then
    leaves out what another moderator holds and second opinions on one's own decisions).
    """
    return Meme.objects.exclude(pk__in=_decided(label_set, None)).exclude(
        pk__in=auto_decided_meme_ids(label_set=label_set)
    )


def _own_second_reviews(label_set: LabelSet, moderator) -> QuerySet:
    """Open second reviews of memes this moderator decided first: someone else's to give."""
    mine = second_reviews_open(label_set=label_set).exclude(
        pk__in=second_reviews_open(label_set=label_set, moderator=moderator)
    )
    return mine.values("meme_id")


def queue_size(*, label_set: LabelSet) -> int:
    """Memes still waiting for a human decision (second opinions included), leases ignored."""
    return queue_waiting(label_set=label_set).count()


@dataclass(frozen=True)
class QueueCounts:
    waiting: int  # queue_size: the dashboard's figure
    leased_by_others: int  # of those, being reviewed by another moderator right now
    own_second_reviews: int  # of those, second opinions on this moderator's own decisions


def queue_counts(*, label_set: LabelSet, moderator) -> QueueCounts:
    waiting = queue_waiting(label_set=label_set)
    own = waiting.filter(pk__in=_own_second_reviews(label_set, moderator))
    return QueueCounts(
        waiting=waiting.count(),
        leased_by_others=queue_leased_count(label_set=label_set, moderator=moderator),
        own_second_reviews=own.count(),
    )


def queue_sizes() -> list[tuple[LabelSet, int]]:
    return [(label_set, queue_size(label_set=label_set)) for label_set in label_set_list()]


def queue_leased_count(*, label_set: LabelSet, moderator) -> int:
    """How many waiting memes other moderators are reviewing right now."""
    waiting = queue_waiting(label_set=label_set).values("pk")
    return (
        leased_by_others(label_set=label_set, moderator=moderator)
        .filter(meme_id__in=waiting)
        .count()
    )
