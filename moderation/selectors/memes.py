"""Reads about one meme: its current human label and text, its lease, its history."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Max, OuterRef, QuerySet, Subquery, TextField, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from classifier.models import LabelSet, Meme, Prediction
from moderation.models import LabelCorrection, ReviewLease


def meme_latest_prediction(*, meme: Meme, label_set: LabelSet) -> Prediction | None:
    return (
        Prediction.objects.filter(meme=meme, label_set=label_set)
        .select_related("model_version")
        .order_by("-created_at", "-id")
        .first()
    )


def meme_latest_correction(*, meme: Meme, label_set: LabelSet) -> LabelCorrection | None:
    """The decision that stands: the newest row wins (by id, i.e. insertion order)."""
    return (
        LabelCorrection.objects.filter(meme=meme, label_set=label_set)
        .select_related("moderator")
        .order_by("-id")
        .first()
    )


def meme_human_decision(*, meme: Meme, label_set: LabelSet) -> LabelCorrection | None:
    """The standing human decision, or None when there is none or it was undone/reopened."""
    latest = meme_latest_correction(meme=meme, label_set=label_set)
    return None if latest is None or latest.is_reset else latest


def meme_latest_text_correction(*, meme: Meme) -> LabelCorrection | None:
    """Text is a property of the meme, so a fix in any label set counts."""
    return LabelCorrection.objects.filter(meme=meme, text_changed=True).order_by("-id").first()


def memes_with_current_text(queryset: QuerySet[Meme]) -> QuerySet[Meme]:
    """Annotate `current_text`: the moderators' latest version of the text, else the OCR output.

    Text is a property of the meme, so a fix in any label set counts.
    """
    latest = LabelCorrection.objects.filter(meme=OuterRef("pk"), text_changed=True).order_by("-id")
    return queryset.annotate(
        current_text=Coalesce(
            Subquery(latest.values("new_text")[:1]), "ocr_text", Value(""), output_field=TextField()
        )
    )


def meme_current_text(*, meme: Meme) -> str:
    """The moderators' latest version of the meme's text, else the OCR output."""
    one = memes_with_current_text(Meme.objects.filter(pk=meme.pk))
    return one.values_list("current_text", flat=True).get()


def meme_lease(
    *, meme: Meme, label_set: LabelSet, now: dt.datetime | None = None
) -> ReviewLease | None:
    """The live lease on the meme, if any."""
    now = now or timezone.now()
    return (
        ReviewLease.objects.filter(meme=meme, label_set=label_set, expires_at__gt=now)
        .select_related("moderator")
        .first()
    )


@dataclass(frozen=True)
class HistoryEntry:
    at: dt.datetime
    kind: str  # "prediction" or "correction"
    label_set: str
    prediction: Prediction | None = None
    correction: LabelCorrection | None = None


def meme_history(*, meme: Meme) -> list[HistoryEntry]:
    """Every prediction and every human decision about the meme, newest first."""
    entries = [
        HistoryEntry(at=p.created_at, kind="prediction", label_set=p.label_set.name, prediction=p)
        for p in Prediction.objects.filter(meme=meme).select_related("label_set", "model_version")
    ]
    entries += [
        HistoryEntry(at=c.created_at, kind="correction", label_set=c.label_set.name, correction=c)
        for c in LabelCorrection.objects.filter(meme=meme).select_related(
            "label_set", "moderator", "model_version"
        )
    ]
    return sorted(entries, key=lambda e: e.at, reverse=True)


def _latest_ids(label_set: LabelSet) -> QuerySet:
    return (
        LabelCorrection.objects.filter(label_set=label_set)
        .values("meme_id")
        .annotate(latest=Max("id"))
        .values("latest")
    )


def human_labels(*, label_set: LabelSet) -> QuerySet[LabelCorrection]:
    """The standing human label of every decided meme (unusable and undone ones left out)."""
    return LabelCorrection.objects.filter(id__in=_latest_ids(label_set), unusable=False).exclude(
        new_label=""
    )


def decided_meme_ids(*, label_set: LabelSet) -> QuerySet:
    """Ids of the memes with a standing human decision (a label or "unusable").

    A meme whose latest row is an undo back to "no decision", or a reopen, is undecided
    again: it is back in the queue.
    """
    return (
        LabelCorrection.objects.filter(id__in=_latest_ids(label_set))
        .exclude(new_label="", unusable=False)
        .values("meme_id")
    )


def memes_corrected_texts(*, memes=None) -> dict[int, str]:
    """{meme id: the moderators' latest text}, for every meme whose text was corrected.

    `memes` (ids, memes or a queryset) narrows it to those memes.
    """
    rows = LabelCorrection.objects.filter(text_changed=True)
    if memes is not None:
        rows = rows.filter(meme__in=memes)
    rows = rows.order_by("id").values_list("meme_id", "new_text")
    # Oldest first, so each meme ends up with its latest text.
    return dict(rows)
