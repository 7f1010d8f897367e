"""Reads behind the API: memes with what a client sees of them, filtered and ordered."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery

# Row ids are 64-bit; a larger id is simply not found (and never reaches the DB, where it
# would overflow). Re-exported for the serializers' bounds.
from classifier.converters import MAX_ID
from classifier.models import LabelSet, Meme, ModelVersion, Prediction
from classifier.selectors import label_set_get, memes_with_prediction
from moderation.models import LabelCorrection, SecondReview

ORDER_CREATED = "created"
ORDER_UNCERTAINTY = "uncertainty"
ORDERINGS = [ORDER_CREATED, f"-{ORDER_CREATED}", ORDER_UNCERTAINTY, f"-{ORDER_UNCERTAINTY}"]
HUMAN_UNUSABLE = "unusable"


@dataclass(frozen=True)
class MemeFilters:
    """What GET /api/v1/memes/ narrows the list to; every field optional."""

    status: str = ""
    label_set: LabelSet | None = None
    predicted_label: str = ""
    human_label: str = ""
    confidence_min: float | None = None
    confidence_max: float | None = None
    created_after: dt.datetime | None = None
    created_before: dt.datetime | None = None
    ordering: str = f"-{ORDER_CREATED}"


def label_set_for_filters(*, label_set: LabelSet | None) -> LabelSet | None:
    """The label set prediction and human-label filters refer to: the given or default one."""
    return label_set or label_set_get(name=None)


def memes_list(*, filters: MemeFilters, user) -> QuerySet[Meme]:
    """The memes `user` may see (Meme.objects.visible_to), narrowed by `filters`."""
    scope = label_set_for_filters(label_set=filters.label_set)
    queryset = Meme.objects.all()
    if scope is not None:
        queryset = _with_human_label(memes_with_prediction(label_set=scope), scope)
    queryset = queryset.visible_to(user)
    if filters.status:
        queryset = queryset.filter(status=filters.status)
    if filters.label_set is not None:
        queryset = queryset.filter(Q(pred_id__isnull=False) | Q(human_unusable__isnull=False))
    if filters.predicted_label:
        queryset = queryset.filter(pred_label=filters.predicted_label)
    if filters.human_label and scope is not None:
        # A blind second reviewer must not learn the first decision by filtering on it.
        queryset = queryset.exclude(pk__in=_blind_meme_ids(user=user, label_set=scope))
    if filters.human_label == HUMAN_UNUSABLE:
        queryset = queryset.filter(human_unusable=True)
    elif filters.human_label:
        queryset = queryset.filter(human_label=filters.human_label, human_unusable=False)
    if filters.confidence_min is not None:
        queryset = queryset.filter(pred_confidence__gte=filters.confidence_min)
    if filters.confidence_max is not None:
        queryset = queryset.filter(pred_confidence__lte=filters.confidence_max)
    if filters.created_after is not None:
        queryset = queryset.filter(created_at__gte=filters.created_after)
    if filters.created_before is not None:
        queryset = queryset.filter(created_at__lt=filters.created_before)
    return _ordered(queryset, filters.ordering, has_predictions=scope is not None)


def _with_human_label(queryset: QuerySet[Meme], label_set: LabelSet) -> QuerySet[Meme]:
    latest = LabelCorrection.objects.filter(meme=OuterRef("pk"), label_set=label_set).order_by(
        "-id"
    )
    return queryset.annotate(
        human_label=Subquery(latest.values("new_label")[:1]),
        human_unusable=Subquery(latest.values("unusable")[:1]),
    )


def _ordered(queryset: QuerySet[Meme], ordering: str, *, has_predictions: bool) -> QuerySet[Meme]:
    if ordering == ORDER_CREATED:
        return queryset.order_by("created_at", "id")
    if has_predictions and ordering == f"-{ORDER_UNCERTAINTY}":
        # Most uncertain first: the smallest margin between the two likeliest classes.
        return queryset.order_by(F("pred_margin").asc(nulls_last=True), "-created_at", "-id")
    if has_predictions and ordering == ORDER_UNCERTAINTY:
        return queryset.order_by(F("pred_margin").desc(nulls_last=True), "-created_at", "-id")
    return queryset.order_by("-created_at", "-id")


def memes_with_details(queryset: QuerySet[Meme]) -> QuerySet[Meme]:
    """Fetch, in a fixed number of queries, everything MemeSerializer shows."""
    return queryset.select_related("uploader").prefetch_related(
        Prefetch(
            "predictions",
            # auto_decision (a reverse one-to-one) joined here: one query for all of them.
            queryset=Prediction.objects.select_related(
                "label_set", "model_version", "auto_decision"
            ).order_by("-created_at", "-id"),
        ),
        Prefetch(
            "corrections",
            queryset=LabelCorrection.objects.select_related("label_set", "moderator").order_by(
                "-id"
            ),
        ),
    )


def meme_get(*, meme_id: int, user) -> Meme:
    """Raise Meme.DoesNotExist for unknown (or impossibly large) ids and others' memes."""
    if not 0 < meme_id <= MAX_ID:
        raise Meme.DoesNotExist
    return memes_with_details(Meme.objects.visible_to(user).filter(pk=meme_id)).get()


def _blind_reviews(*, user) -> QuerySet[SecondReview]:
    """Open second reviews `user` could still give: their first decisions stay hidden."""
    decided = LabelCorrection.objects.filter(
        moderator=user, label_set=OuterRef("label_set"), meme=OuterRef("meme")
    )
    return SecondReview.objects.filter(second__isnull=True).exclude(Exists(decided))


def _blind_meme_ids(*, user, label_set: LabelSet):
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


def meme_latest_predictions(meme: Meme) -> list[Prediction]:
    """The newest prediction per label set, from the prefetched rows, by label set name."""
    latest: dict[int, Prediction] = {}
    for prediction in meme.predictions.all():
        latest.setdefault(prediction.label_set_id, prediction)
    return sorted(latest.values(), key=lambda p: p.label_set.name)


def meme_human_labels(meme: Meme) -> list[LabelCorrection]:
    """The standing decision per label set (the newest correction), by label set name."""
    latest: dict[int, LabelCorrection] = {}
    for correction in meme.corrections.all():
        latest.setdefault(correction.label_set_id, correction)
    return sorted(latest.values(), key=lambda c: c.label_set.name)


def meme_current_text(meme: Meme) -> str:
    """The moderators' latest text for the meme, else the OCR text (as the review page)."""
    for correction in meme.corrections.all():
        if correction.text_changed:
            return correction.new_text
    return meme.ocr_text or ""


def label_sets() -> QuerySet[LabelSet]:
    """Every label set, with its active version (if any) in `active_versions`."""
    active = ModelVersion.objects.filter(is_active=True)
    return LabelSet.objects.prefetch_related(
        Prefetch("versions", queryset=active, to_attr="active_versions")
    ).order_by("name")


def model_versions(*, label_set: LabelSet | None = None) -> QuerySet[ModelVersion]:
    queryset = ModelVersion.objects.select_related("label_set", "parent", "triggered_by")
    if label_set is not None:
        queryset = queryset.filter(label_set=label_set)
    return queryset.order_by("-created_at", "-id")


def model_version_get(*, model_version_id: int) -> ModelVersion:
    if not 0 < model_version_id <= MAX_ID:
        raise ModelVersion.DoesNotExist
    return model_versions().get(pk=model_version_id)


def model_versions_active_for(*, label_set: LabelSet | None) -> list[ModelVersion]:
    """The active version of `label_set`, or of every label set when None."""
    queryset = ModelVersion.objects.filter(is_active=True).select_related("label_set")
    if label_set is not None:
        queryset = queryset.filter(label_set=label_set)
    return list(queryset.order_by("label_set__name"))
