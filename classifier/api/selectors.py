"""Reads behind the API: memes with what a client sees of them, filtered and ordered."""

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.db.models import F, Prefetch, Q, QuerySet

# Row ids are 64-bit; a larger id is simply not found (and never reaches the DB, where it
# would overflow). Re-exported for the serializers' bounds.
from classifier.converters import MAX_ID
from classifier.extensions import meme_extensions
from classifier.models import LabelSet, Meme, ModelVersion, Prediction
from classifier.reposts.selectors import meme_reposts
from classifier.selectors import (
    label_set_get,
    memes_prefetch_predictions,
    memes_with_prediction,
    prefetched_empty,
)

ORDER_CREATED = "created"
ORDER_UNCERTAINTY = "uncertainty"
ORDERINGS = [ORDER_CREATED, f"-{ORDER_CREATED}", ORDER_UNCERTAINTY, f"-{ORDER_UNCERTAINTY}"]


@dataclass(frozen=True)
class MemeFilters:
    """What GET /api/v1/memes/ narrows the list to; every field optional."""

    status: str = ""
    label_set: LabelSet | None = None
    predicted_label: str = ""
    confidence_min: float | None = None
    confidence_max: float | None = None
    created_after: dt.datetime | None = None
    created_before: dt.datetime | None = None
    ordering: str = f"-{ORDER_CREATED}"
    # The query parameters of the meme extensions (classifier/extensions.py) by name.
    extra: Mapping = field(default_factory=dict)


def label_set_for_filters(*, label_set: LabelSet | None) -> LabelSet | None:
    """The label set prediction and human-label filters refer to: the given or default one."""
    return label_set or label_set_get(name=None)


def memes_list(*, filters: MemeFilters, user) -> QuerySet[Meme]:
    """The memes `user` may see (Meme.objects.visible_to), narrowed by `filters`."""
    scope = label_set_for_filters(label_set=filters.label_set)
    extensions = meme_extensions()
    queryset = Meme.objects.all()
    if scope is not None:
        queryset = memes_with_prediction(label_set=scope)
        for extension in extensions:
            queryset = extension.annotate(queryset, label_set=scope)
    queryset = queryset.visible_to(user)
    if filters.status:
        queryset = queryset.filter(status=filters.status)
    if filters.label_set is not None:
        labelled = Q(pred_id__isnull=False)
        for extension in extensions:
            labelled |= extension.in_label_set()
        queryset = queryset.filter(labelled)
    if filters.predicted_label:
        queryset = queryset.filter(pred_label=filters.predicted_label)
    for extension in extensions:
        queryset = extension.narrow(queryset, filters=filters.extra, label_set=scope, user=user)
    if filters.confidence_min is not None:
        queryset = queryset.filter(pred_confidence__gte=filters.confidence_min)
    if filters.confidence_max is not None:
        queryset = queryset.filter(pred_confidence__lte=filters.confidence_max)
    if filters.created_after is not None:
        queryset = queryset.filter(created_at__gte=filters.created_after)
    if filters.created_before is not None:
        queryset = queryset.filter(created_at__lt=filters.created_before)
    return _ordered(queryset, filters.ordering, has_predictions=scope is not None)


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
    queryset = memes_prefetch_predictions(queryset.select_related("uploader"))
    for extension in meme_extensions():
        queryset = extension.with_details(queryset)
    return queryset


def meme_get(*, meme_id: int, user) -> Meme:
    """Raise Meme.DoesNotExist for unknown (or impossibly large) ids and others' memes."""
    if not 0 < meme_id <= MAX_ID:
        raise Meme.DoesNotExist
    return memes_with_details(Meme.objects.visible_to(user).filter(pk=meme_id)).get()


def meme_just_created(*, meme: Meme) -> tuple[Meme, dict]:
    """`meme`, just written by meme_create, ready for MemeSerializer, and its context.

    No prediction (nor anything an extension adds) can refer to a row this request has
    just created, so what memes_with_details would fetch and memes_context would compute
    is known without a query. Reading the meme back with those prefetches was 43% of an
    upload's Python time under gunicorn, the context's query another 16% (py-spy,
    docs/benchmarks.md).
    """
    meme._prefetched_objects_cache = {"predictions": prefetched_empty(Prediction.objects.all())}
    context: dict = {}
    for extension in meme_extensions():
        context.update(extension.just_created(meme))
    return meme, context


def memes_context(*, user, memes) -> dict:
    """What the meme serializers need beyond the rows, for a response listing `memes`."""
    context: dict = {}
    for extension in meme_extensions():
        context.update(extension.context(user=user, memes=memes))
    return context


def meme_detail_context(*, user, meme: Meme) -> dict:
    """What MemeDetailSerializer needs beyond the row: reposts `user` may see, and more."""
    context = memes_context(user=user, memes=[meme])
    # Only the reposts this user may see: others' memes are not even counted.
    context["reposts"] = meme_reposts(meme=meme, user=user)
    for extension in meme_extensions():
        context.update(extension.detail_context(user=user, meme=meme))
    return context


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
