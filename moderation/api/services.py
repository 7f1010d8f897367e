"""Writes behind the API: what the review page's form supplies, the API works out here."""

from classifier.models import LabelSet, Meme
from moderation import services as moderation_services
from moderation.models import LabelCorrection
from moderation.selectors.memes import meme_latest_correction, meme_latest_prediction


class NoLabelYet(Exception):
    """A text-only correction on a meme with neither a human label nor a usable prediction."""


def api_correction_create(
    *,
    meme: Meme,
    label_set: LabelSet,
    moderator,
    label: str | None = None,
    unusable: bool = False,
    text: str | None = None,
    seen_correction_id: int | None = None,
    seen_text_correction_id: int | None = None,
    check_stale: bool = False,
) -> LabelCorrection:
    """Record a decision sent through the API, in the same trail as the review page's.

    A correction of the text alone keeps the label standing (the human label, else the
    prediction), as the review page does when a moderator only edits the text. With
    `check_stale`, a decision made since `seen_*` raises StaleReviewError.
    """
    if label is None and not unusable:
        unusable, label = _standing_label(meme=meme, label_set=label_set)
    return moderation_services.correction_create(
        meme=meme,
        label_set=label_set,
        moderator=moderator,
        new_label=label or "",
        unusable=unusable,
        new_text=text,
        seen_correction_id=seen_correction_id,
        seen_text_correction_id=seen_text_correction_id,
        check_stale=check_stale,
        source=LabelCorrection.Source.API,
    )


def _standing_label(*, meme: Meme, label_set: LabelSet) -> tuple[bool, str]:
    current = meme_latest_correction(meme=meme, label_set=label_set)
    if current is not None:
        return current.unusable, current.new_label
    prediction = meme_latest_prediction(meme=meme, label_set=label_set)
    if prediction is not None and prediction.label in label_set.classes:
        return False, prediction.label
    raise NoLabelYet(
        f"Meme {meme.pk} has no label for {label_set.name} yet: send `label` with the text."
    )
