"""Reads behind the per-moderator page: how much, how fast, how consistent with others."""

import datetime as dt
import statistics
from dataclasses import dataclass

from django.db.models import Count, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from classifier.models import LabelSet
from moderation.models import LabelCorrection
from moderation.selectors.agreement import PairAgreement, moderator_agreement

# Gaps between two decisions longer than this are breaks, not time spent on a meme.
DECISION_GAP_LIMIT = dt.timedelta(minutes=10)

# Rows that are a moderator's own decision on the review page, the API or in bulk; undos
# and reopens take decisions back rather than make them.
DECISION_SOURCES = (
    LabelCorrection.Source.MODERATOR,
    LabelCorrection.Source.API,
    LabelCorrection.Source.BULK,
)


def moderator_decisions(*, moderator) -> QuerySet[LabelCorrection]:
    """The moderator's decisions that still count (not undone)."""
    return LabelCorrection.objects.filter(
        moderator=moderator, source__in=DECISION_SOURCES, undone_by__isnull=True
    )


def moderator_decisions_per_day(
    *, moderator, days: int = 14, now: dt.datetime | None = None
) -> list[tuple[dt.date, int]]:
    """(day, decisions) for each of the last ``days`` days, newest first, zeros included."""
    today = timezone.localdate(now or timezone.now())
    first = today - dt.timedelta(days=days - 1)
    counts = dict(
        moderator_decisions(moderator=moderator)
        .filter(created_at__date__gte=first)
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    )
    return [
        (today - dt.timedelta(days=i), counts.get(today - dt.timedelta(days=i), 0))
        for i in range(days)
    ]


@dataclass(frozen=True)
class DecisionPace:
    median_seconds: float | None
    timed: int  # decisions with a measurable time (previous decision within the gap limit)


def moderator_pace(*, moderator) -> DecisionPace:
    """Median time per decision: the gap since the moderator's previous review-page decision.

    Only one-at-a-time decisions count (bulk actions and repost copies land together);
    a gap over DECISION_GAP_LIMIT is a break and is left out.
    """
    times = list(
        moderator_decisions(moderator=moderator)
        .exclude(source=LabelCorrection.Source.BULK)
        .order_by("created_at", "id")
        .values_list("created_at", flat=True)
    )
    gaps = [
        (later - earlier).total_seconds()
        for earlier, later in zip(times, times[1:], strict=False)
        if later - earlier <= DECISION_GAP_LIMIT
    ]
    return DecisionPace(statistics.median(gaps) if gaps else None, len(gaps))


def moderator_pairs(*, moderator, label_set: LabelSet) -> list[PairAgreement]:
    """Cohen's kappa of this moderator with each other moderator on memes both rated."""
    name = moderator.get_username()
    return [
        pair
        for pair in moderator_agreement(label_set=label_set).pairs
        if name in (pair.first, pair.second)
    ]
