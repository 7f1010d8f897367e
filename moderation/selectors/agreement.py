"""How much moderators agree with each other, and which memes wait for a second opinion.

The ratings are each moderator's first individual decision on a meme (from the review page
or the API; bulk actions and imports are not individual judgements) for memes that two or
more moderators decided. Memes marked unusable by a moderator leave that rating out, so the
categories are the label set's classes.

- Cohen's kappa, per pair of moderators, on the memes both decided:
  (p_o - p_e) / (1 - p_e), p_e = sum over classes of the product of their two marginals.
- Fleiss' kappa, every meme with two or more ratings (rater counts may differ per meme):
  P_i = sum_k n_ik (n_ik - 1) / (n_i (n_i - 1)), P = mean P_i, p_k = share of all ratings
  in class k, P_e = sum_k p_k^2, kappa = (P - P_e) / (1 - P_e).
- Gwet's AC1 (Gwet 2008), same memes: the same P, but chance agreement
  P_e = sum_k pi_k (1 - pi_k) / (Q - 1), pi_k = mean over memes of n_ik / n_i, Q classes.
  Kappa collapses when nearly every meme is in one class (it reads high agreement as
  chance); AC1 does not.
"""

import hashlib
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

from django.conf import settings
from django.db.models import Count, QuerySet

from classifier.models import LabelSet, Meme
from moderation.models import LabelCorrection, SecondReview

RATING_SOURCES = (LabelCorrection.Source.MODERATOR, LabelCorrection.Source.API)


# --- Second reviews ---------------------------------------------------------------------------


def second_review_drawn(*, meme: Meme, label_set: LabelSet, rate: float | None = None) -> bool:
    """Whether the meme is in the double-review sample: a hash of its content, not a dice roll.

    The same meme is always in or out for a given rate, whoever decides it and when.
    """
    rate = settings.DOUBLE_REVIEW_RATE if rate is None else rate
    digest = hashlib.sha256(f"second-review:{label_set.name}:{meme.sha256}".encode()).hexdigest()
    return int(digest[:8], 16) / 2**32 < rate


def second_reviews_open(*, label_set: LabelSet, moderator=None) -> QuerySet[SecondReview]:
    """Second reviews still waiting; with `moderator`, only those they may take.

    A moderator who already decided the meme cannot give it its second opinion.
    """
    reviews = SecondReview.objects.filter(label_set=label_set, second__isnull=True)
    if moderator is not None:
        decided = LabelCorrection.objects.filter(label_set=label_set, moderator=moderator)
        reviews = reviews.exclude(meme_id__in=decided.values("meme_id"))
    return reviews


def meme_second_review_for(*, meme: Meme, label_set: LabelSet, moderator) -> SecondReview | None:
    """The open second review `moderator` would be answering by deciding this meme."""
    return second_reviews_open(label_set=label_set, moderator=moderator).filter(meme=meme).first()


# --- Statistics -------------------------------------------------------------------------------


def cohen_kappa(pairs: Sequence[tuple[str, str]]) -> float | None:
    """Cohen's kappa of two raters; `pairs` holds (rater A's label, rater B's label)."""
    n = len(pairs)
    if n == 0:
        return None
    observed = sum(a == b for a, b in pairs) / n
    first = Counter(a for a, _ in pairs)
    second = Counter(b for _, b in pairs)
    expected = sum(first[k] * second[k] for k in first) / (n * n)
    if expected == 1:
        return None  # both raters used one and the same class throughout
    return (observed - expected) / (1 - expected)


def _observed(items: Sequence[Counter]) -> float:
    total = 0.0
    for counts in items:
        n = sum(counts.values())
        total += sum(c * (c - 1) for c in counts.values()) / (n * (n - 1))
    return total / len(items)


def fleiss_kappa(items: Sequence[Counter]) -> float | None:
    """Fleiss' kappa; `items` holds one Counter {class: raters} per item (>= 2 raters each)."""
    if not items:
        return None
    totals: Counter = Counter()
    for counts in items:
        totals.update(counts)
    n_ratings = sum(totals.values())
    expected = sum((c / n_ratings) ** 2 for c in totals.values())
    if expected == 1:
        return None
    return (_observed(items) - expected) / (1 - expected)


def gwet_ac1(items: Sequence[Counter], classes: Sequence[str]) -> float | None:
    """Gwet's AC1 for any number of raters; `classes` is the whole rating scale (Q >= 2)."""
    if not items or len(classes) < 2:
        return None
    pi = {k: sum(c[k] / sum(c.values()) for c in items) / len(items) for k in classes}
    expected = sum(p * (1 - p) for p in pi.values()) / (len(classes) - 1)
    return (_observed(items) - expected) / (1 - expected)


# --- On the data ------------------------------------------------------------------------------


def moderator_ratings(*, label_set: LabelSet) -> dict[int, dict[str, str]]:
    """{meme id: {moderator: label}} for memes with two or more moderators' ratings."""
    individual = LabelCorrection.objects.filter(
        label_set=label_set,
        moderator__isnull=False,
        source__in=RATING_SOURCES,
        undone_by__isnull=True,  # a decision its moderator took back is no rating
    )
    shared = (
        individual.values("meme_id")
        .annotate(raters=Count("moderator", distinct=True))
        .filter(raters__gte=2)
        .values("meme_id")
    )
    rows = (
        individual.filter(meme_id__in=shared)
        .order_by("id")
        .values_list("meme_id", "moderator__username", "new_label", "unusable")
    )
    ratings: dict[int, dict[str, str | None]] = defaultdict(dict)
    for meme_id, username, label, unusable in rows:
        # The first decision is the moderator's own judgement; later ones may be revisions.
        ratings[meme_id].setdefault(username, None if unusable else label)
    classes = set(label_set.classes)
    out = {}
    for meme_id, by_moderator in ratings.items():
        kept = {m: lbl for m, lbl in by_moderator.items() if lbl in classes}
        if len(kept) >= 2:
            out[meme_id] = kept
    return out


@dataclass(frozen=True)
class PairAgreement:
    first: str
    second: str
    n: int
    observed: float
    kappa: float | None


@dataclass(frozen=True)
class ModeratorAgreement:
    items: int  # memes with two or more ratings
    ratings: int
    observed: float | None  # mean share of agreeing rater pairs per meme
    fleiss_kappa: float | None
    gwet_ac1: float | None
    pairs: list[PairAgreement]
    second_reviews_open: int
    second_reviews_done: int
    rate: float


def moderator_agreement(*, label_set: LabelSet) -> ModeratorAgreement:
    ratings = moderator_ratings(label_set=label_set)
    items = [Counter(by_moderator.values()) for by_moderator in ratings.values()]
    by_pair: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for by_moderator in ratings.values():
        for a, b in combinations(sorted(by_moderator), 2):
            by_pair[(a, b)].append((by_moderator[a], by_moderator[b]))
    pairs = [
        PairAgreement(a, b, len(p), sum(x == y for x, y in p) / len(p), cohen_kappa(p))
        for (a, b), p in sorted(by_pair.items())
    ]
    reviews = SecondReview.objects.filter(label_set=label_set)
    return ModeratorAgreement(
        items=len(items),
        ratings=sum(sum(c.values()) for c in items),
        observed=_observed(items) if items else None,
        fleiss_kappa=fleiss_kappa(items),
        gwet_ac1=gwet_ac1(items, label_set.classes),
        pairs=pairs,
        second_reviews_open=reviews.filter(second__isnull=True).count(),
        second_reviews_done=reviews.filter(second__isnull=False).count(),
        rate=settings.DOUBLE_REVIEW_RATE,
    )
