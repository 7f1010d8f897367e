"""Reads behind the moderators' search across every meme, decided or not."""

import datetime as dt
import re
from dataclasses import dataclass

from django.db.models import OuterRef, Q, QuerySet, Subquery

from classifier.models import LabelSet, Meme
from classifier.selectors import memes_with_prediction
from moderation.models import LabelCorrection

LABEL_UNUSABLE = "unusable"
LABEL_NONE = "none"  # no standing human decision


@dataclass(frozen=True)
class SearchQuery:
    """What a moderator looks for; every field optional."""

    # Matched against the OCR text, the caption, corrected texts and the file name; a
    # number ("123" or "#123") also finds the meme with that id.
    text: str = ""
    uploader: str = ""
    # The standing human label in the label set, LABEL_UNUSABLE or LABEL_NONE.
    label: str = ""
    # The model's latest predicted label in the label set.
    decision: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    @property
    def is_empty(self) -> bool:
        return not any(getattr(self, name) for name in self.__dataclass_fields__)


def memes_search(*, label_set: LabelSet, query: SearchQuery) -> QuerySet[Meme]:
    """Memes matching every given part of the query, newest first, with their labels.

    Each meme carries ``pred_*`` (its latest prediction, as in the queue) and
    ``human_label``/``human_unusable`` (its standing human decision; both empty when
    it has none or it was undone or reopened).
    """
    latest = LabelCorrection.objects.filter(meme=OuterRef("pk"), label_set=label_set).order_by(
        "-id"
    )
    memes = memes_with_prediction(
        label_set=label_set, queryset=Meme.objects.select_related("uploader")
    ).annotate(
        human_label=Subquery(latest.values("new_label")[:1]),
        human_unusable=Subquery(latest.values("unusable")[:1]),
    )
    text = query.text.strip()
    if text:
        corrected = LabelCorrection.objects.filter(
            text_changed=True, new_text__icontains=text
        ).values("meme_id")
        match = (
            Q(ocr_text__icontains=text)
            | Q(caption__icontains=text)
            | Q(original_name__icontains=text)
            | Q(pk__in=corrected)
        )
        number = re.fullmatch(r"#?(\d{1,18})", text)
        if number:
            match |= Q(pk=int(number.group(1)))
        memes = memes.filter(match)
    if query.uploader:
        memes = memes.filter(uploader__username__iexact=query.uploader.strip())
    if query.label == LABEL_UNUSABLE:
        memes = memes.filter(human_unusable=True)
    elif query.label == LABEL_NONE:
        memes = memes.filter(Q(human_label__isnull=True) | Q(human_label="", human_unusable=False))
    elif query.label:
        memes = memes.filter(human_label=query.label, human_unusable=False)
    if query.decision:
        memes = memes.filter(pred_label=query.decision)
    if query.date_from:
        memes = memes.filter(created_at__date__gte=query.date_from)
    if query.date_to:
        memes = memes.filter(created_at__date__lte=query.date_to)
    return memes.order_by("-created_at", "-id")
