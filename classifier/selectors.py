"""Reads for the classifier app."""

from datetime import timedelta

from django.conf import settings
from django.db.models import FloatField, OuterRef, Prefetch, QuerySet, Subquery, Value
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.utils import timezone

from classifier.converters import MAX_ID
from classifier.models import LabelSet, Meme, ModelVersion, Prediction


def meme_get(*, meme_id: int) -> Meme:
    if not 0 < meme_id <= MAX_ID:
        raise Meme.DoesNotExist
    return Meme.objects.select_related("uploader").get(pk=meme_id)


def meme_get_visible(*, meme_id: int, user, session_meme_ids=()) -> Meme:
    """The meme, if `user` may see it; otherwise Meme.DoesNotExist, as for an unknown id."""
    if not 0 < meme_id <= MAX_ID:
        raise Meme.DoesNotExist
    visible = Meme.objects.visible_to(user, session_meme_ids=session_meme_ids)
    return memes_prefetch_predictions(visible.select_related("uploader")).get(pk=meme_id)


def meme_find_by_sha256(*, sha256: str) -> Meme | None:
    # Asked on every upload, and almost always answered "none": an EXISTS on the unique
    # index compiles and runs in half the time of fetching the row (0.13 against 0.31 ms).
    same = Meme.objects.filter(sha256=sha256)
    return same.first() if same.exists() else None


def meme_find_by_image(*, name: str, user, session_meme_ids=()) -> Meme | None:
    """Return the meme whose stored file is `name`, if `user` may see it.

    Files are named after the upload's SHA-256, so the unique sha256 index finds the row.
    """
    sha256 = name.rsplit("/", 1)[-1].split(".", 1)[0]
    if len(sha256) != 64:
        return None
    visible = Meme.objects.visible_to(user, session_meme_ids=session_meme_ids)
    return visible.filter(sha256=sha256, image=name).first()


def memes_recent(*, user, session_meme_ids=(), limit: int = 12) -> QuerySet[Meme]:
    visible = Meme.objects.visible_to(user, session_meme_ids=session_meme_ids)
    return visible.order_by("-created_at")[:limit]


def memes_stale(*, older_than: timedelta) -> QuerySet[Meme]:
    """Return memes waiting or processing for longer than `older_than`.

    A pending meme whose enqueue was lost (broker down at commit time) and a processing
    meme whose worker died both end up here.
    """
    cutoff = timezone.now() - older_than
    processing = Meme.objects.filter(
        status=Meme.Status.PROCESSING, processing_started_at__lt=cutoff
    )
    pending = Meme.objects.filter(status=Meme.Status.PENDING, queued_at__lt=cutoff)
    return (processing | pending).order_by("pk")


def meme_is_stale(*, meme: Meme, older_than: timedelta) -> bool:
    """Whether `meme` waits or processes for longer than `older_than` (see memes_stale)."""
    cutoff = timezone.now() - older_than
    if meme.status == Meme.Status.PROCESSING:
        return meme.processing_started_at is None or meme.processing_started_at < cutoff
    if meme.status == Meme.Status.PENDING:
        return meme.queued_at is None or meme.queued_at < cutoff
    return False


def prefetched_empty(queryset: QuerySet) -> QuerySet:
    """`queryset`, already evaluated to no rows, for a `_prefetched_objects_cache` entry.

    For relations known to be empty (a row this request has just created). Django's own
    `none()` still compiles its SQL each time it is iterated, which was 10% of an upload's
    Python time under gunicorn (py-spy, docs/benchmarks.md); this is the state
    `prefetch_related` leaves a fetched relation in.
    """
    queryset = queryset.none()
    queryset._result_cache = []
    queryset._prefetch_done = True
    return queryset


def memes_prefetch_predictions(queryset: QuerySet[Meme]) -> QuerySet[Meme]:
    """Prefetch every prediction, newest first, with what meme_latest_predictions reads."""
    return queryset.prefetch_related(
        Prefetch(
            "predictions",
            # auto_decision (a reverse one-to-one) joined here: one query for all of them.
            queryset=Prediction.objects.select_related(
                "label_set", "model_version", "auto_decision"
            ).order_by("-created_at", "-id"),
        )
    )


def meme_latest_predictions(*, meme: Meme) -> list[Prediction]:
    """The latest prediction of each label set for `meme`, by label set name.

    Reads `meme.predictions`: fetch memes through memes_prefetch_predictions, so a page or a
    list of memes runs no query here.
    """
    latest: dict[int, Prediction] = {}
    newest_first = sorted(meme.predictions.all(), key=lambda p: (p.created_at, p.id), reverse=True)
    for prediction in newest_first:
        latest.setdefault(prediction.label_set_id, prediction)
    return sorted(latest.values(), key=lambda p: p.label_set.name)


def model_versions_active(*, label_set: LabelSet | None = None) -> list[ModelVersion]:
    """The active version of every label set that has one (of `label_set` only, if given)."""
    queryset = ModelVersion.objects.filter(is_active=True).select_related("label_set")
    if label_set is not None:
        queryset = queryset.filter(label_set=label_set)
    return list(queryset.order_by("label_set__name"))


def model_version_active(*, label_set: LabelSet) -> ModelVersion | None:
    """The version new memes of `label_set` are classified with; None when there is none."""
    return (
        ModelVersion.objects.filter(is_active=True, label_set=label_set)
        .select_related("label_set")
        .first()
    )


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
