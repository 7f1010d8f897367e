"""django-q2 task functions: they take ids and call a service."""

from classifier import services


def classify_meme(meme_id: int) -> str:
    """Run OCR and the active models on one meme; return its final status."""
    meme = services.meme_classify(meme_id=meme_id)
    return meme.status if meme is not None else "skipped"


def sweep_stale_memes() -> int:
    """Re-queue memes whose worker died or whose task was lost (run on a schedule)."""
    return services.memes_requeue_stale()
