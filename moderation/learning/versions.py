"""Reclassify memes with the active model version (promotion and rollback: promotion.py)."""

from __future__ import annotations

from collections.abc import Callable

from django_q.tasks import async_task

from classifier import ml_bridge
from classifier.models import LabelSet, Meme, Prediction
from classifier.selectors import model_version_active
from classifier.services import image_signals, model_text, probability_stats
from moderation.selectors.memes import decided_meme_ids, memes_corrected_texts

RECLASSIFY_TASK = "moderation.tasks.reclassify_label_set"
BATCH = 32


class ReclassifyError(Exception):
    """Nothing to reclassify with: the label set has no active model version."""


def memes_without_human_label(*, label_set: LabelSet):
    decided = decided_meme_ids(label_set=label_set)  # an undone or reopened meme is not
    return Meme.objects.filter(status=Meme.Status.CLASSIFIED).exclude(pk__in=decided).order_by("pk")


def reclassify(*, label_set: LabelSet, on_batch: Callable[[int, int], None] | None = None) -> int:
    """Add a prediction by the active model to every meme without a human label.

    Uses the text moderators settled on (or the OCR text) without running OCR
    again, and recomputes the memes' signals from it; returns how many memes got a new
    prediction.
    """
    import ml

    version = model_version_active(label_set=label_set)
    if version is None:
        raise ReclassifyError(f"{label_set.name} has no active model version")
    model = ml_bridge.load_model(label_set.name, version.artifact_path)
    memes = list(memes_without_human_label(label_set=label_set))
    texts = memes_corrected_texts(memes=memes)
    done = 0
    for start in range(0, len(memes), BATCH):
        batch = memes[start : start + BATCH]
        images = []
        for meme in batch:
            with meme.image.open("rb") as fh:
                images.append(ml_bridge.open_image(fh.read()))
        batch_texts = [
            model_text(ocr_text=texts.get(m.pk, m.ocr_text), caption=m.caption) for m in batch
        ]
        probabilities = ml.predict(model, images, batch_texts)
        # The signals follow the text moderators settled on, like the prediction does.
        for meme, picture, text in zip(batch, images, batch_texts, strict=True):
            signals = image_signals(picture=picture, text=text)
            meme.offensive_score, meme.nsfw_score = signals.offensive_score, signals.nsfw_score
        Meme.objects.bulk_update(batch, ["offensive_score", "nsfw_score"])
        rows = []
        for meme, probs in zip(batch, probabilities, strict=True):
            by_class = {c: float(p) for c, p in zip(model.classes, probs, strict=True)}
            confidence, margin, entropy = probability_stats(by_class)
            rows.append(
                Prediction(
                    meme=meme,
                    label_set=label_set,
                    model_version=version,
                    label=model.classes[int(probs.argmax())],
                    probabilities=by_class,
                    confidence=confidence,
                    margin=margin,
                    entropy=entropy,
                    duration_ms=0,
                )
            )
        Prediction.objects.bulk_create(rows)
        done += len(batch)
        if on_batch is not None:
            on_batch(done, len(memes))
    return done


def reclassify_enqueue(*, label_set: LabelSet) -> None:
    """Reclassify in the background, on the slow queue so uploads are not delayed."""
    async_task(
        RECLASSIFY_TASK, label_set.pk, cluster="slow", task_name=f"reclassify-{label_set.name}"
    )
