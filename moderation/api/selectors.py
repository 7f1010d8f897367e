"""Reads behind moderation's API fields: human labels, blind second reviews."""

from django.db.models import Exists, OuterRef, Prefetch, QuerySet, Subquery

from classifier.models import LabelSet, Meme
from moderation.models import LabelCorrection, SecondReview

HUMAN_UNUSABLE = "unusable"


def memes_with_human_label(queryset: QuerySet[Meme], *, label_set: LabelSet) -> QuerySet[Meme]:
    """Annotate the standing human decision for `label_set` (human_label, human_unusable)."""
    latest = LabelCorrection.objects.filter(meme=OuterRef("pk"), label_set=label_set).order_by(
        "-id"
    )
    return queryset.annotate(
        human_label=Subquery(latest.values("new_label")[:1]),
        human_unusable=Subquery(latest.values("unusable")[:1]),
    )


def memes_with_corrections(queryset: QuerySet[Meme]) -> QuerySet[Meme]:
    """Prefetch every correction, newest first: what meme_human_labels and the text read."""
    return queryset.prefetch_related(
        Prefetch(
            "corrections",
            queryset=LabelCorrection.objects.select_related("label_set", "moderator").order_by(
                "-id"
            ),
        )
    )


def _blind_reviews(*, user) -> QuerySet[SecondReview]:
    """Open second reviews `user` could still give: their first decisions stay hidden."""
    decided = LabelCorrection.objects.filter(
        moderator=user, label_set=OuterRef("label_set"), meme=OuterRef("meme")
    )
    return SecondReview.objects.filter(second__isnull=True).exclude(Exists(decided))


def blind_meme_ids(*, user, label_set: LabelSet):
    return _blind_reviews(user=user).filter(label_set=label_set).values("meme_id")


def blind_human_labels(*, user, memes) -> set[tuple[int, int]]:
    """{(meme id, label set id)} whose human label `user` must not see yet, in one query.

    A blind second review stays blind everywhere until both decisions exist: for every
    moderator but the one who decided first (and the API's uploaders, who never see
    moderators anyway, see labels only of their own memes).
    """
    if not (user and user.is_authenticated):
        return set()
    ids = [meme.pk for meme in memes]
    rows = _blind_reviews(user=user).filter(meme_id__in=ids)
    return set(rows.values_list("meme_id", "label_set_id"))


def meme_human_labels(meme: Meme) -> list[LabelCorrection]:
    """The standing decision per label set (the newest correction), by label set name.

    Reads the corrections memes_with_corrections prefetched.
    """
    latest: dict[int, LabelCorrection] = {}
    for correction in meme.corrections.all():
        latest.setdefault(correction.label_set_id, correction)
    return sorted(latest.values(), key=lambda c: c.label_set.name)
