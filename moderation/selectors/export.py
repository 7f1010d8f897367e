"""Human labels as flat rows, for use outside the app."""

from collections.abc import Iterable, Iterator

from classifier.models import LabelSet
from moderation.selectors.memes import human_labels, memes_corrected_texts

EXPORT_FIELDS = [
    "image_sha256",
    "file_name",
    "caption",
    "label_set",
    "label",
    "text",
    "text_corrected",
    "moderator",
    "source",
    "labelled_at",
]


def human_label_rows(*, label_sets: Iterable[LabelSet]) -> Iterator[dict]:
    """One row per meme and label set with a standing human label.

    ``text`` is the moderators' corrected text when there is one
    (``text_corrected`` says so), else the OCR text.
    """
    texts = memes_corrected_texts()
    for label_set in label_sets:
        labels = (
            human_labels(label_set=label_set)
            .select_related("meme", "moderator")
            .order_by("meme_id")
        )
        for correction in labels.iterator(chunk_size=1000):
            meme = correction.meme
            corrected = meme.pk in texts
            yield {
                "image_sha256": meme.sha256,
                "file_name": meme.original_name,
                "caption": meme.caption,
                "label_set": label_set.name,
                "label": correction.new_label,
                "text": texts[meme.pk] if corrected else meme.ocr_text,
                "text_corrected": corrected,
                "moderator": correction.moderator.username if correction.moderator else "",
                "source": correction.source,
                "labelled_at": correction.created_at.isoformat(),
            }
