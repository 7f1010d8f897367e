"""What the review queue's reads cost: the first page with reasons, its counts, a search.

A temporary SQLite database with N classified memes (one prediction each, random
confidence and offensive score), a quarter of them decided by a moderator, a tenth of
those undone again; times the queries behind the queue page (first page of 50 with each
meme's reasons, the dashboard/queue counts) and a text search.

    .venv/bin/python -m bench.queue_page [--sizes 1000 10000]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

from bench.clusters import _setup_django


def fill(n_memes: int, rng: random.Random) -> None:
    from django.contrib.auth.models import User
    from django.db import transaction

    from classifier.models import LabelSet, Meme, ModelVersion, Prediction
    from moderation.models import LabelCorrection

    label_set = LabelSet.objects.get(name="sentiment")
    version = ModelVersion.objects.get(label_set=label_set, is_active=True)
    moderator = User.objects.create_user("bench-mod")
    with transaction.atomic():
        memes = Meme.objects.bulk_create(
            [
                Meme(
                    sha256=f"{i:064x}",
                    image="x",
                    content_type="image/png",
                    size_bytes=1,
                    width=1,
                    height=1,
                    status="classified",
                    ocr_text=f"meme number {i}",
                    offensive_score=rng.random(),
                )  # fmt: skip
                for i in range(n_memes)
            ],
            batch_size=2000,
        )
        predictions = []
        for meme in memes:
            p = rng.random()
            predictions.append(
                Prediction(
                    meme=meme,
                    label_set=label_set,
                    model_version=version,
                    label="negative" if p > 0.5 else "positive",
                    probabilities={"negative": p, "positive": 1 - p},
                    confidence=max(p, 1 - p),
                    margin=abs(2 * p - 1),
                    entropy=0.5,
                    duration_ms=1,
                )  # fmt: skip
            )
        Prediction.objects.bulk_create(predictions, batch_size=2000)
        decided = rng.sample(memes, n_memes // 4)
        rows = LabelCorrection.objects.bulk_create(
            [
                LabelCorrection(
                    meme=m, label_set=label_set, new_label="positive", moderator=moderator
                )
                for m in decided
            ],
            batch_size=2000,
        )
        LabelCorrection.objects.bulk_create(
            [
                LabelCorrection(
                    meme=row.meme,
                    label_set=label_set,
                    old_label="positive",
                    new_label="",
                    moderator=moderator,
                    source="undo",
                    undoes=row,
                )  # fmt: skip
                for row in rows[: len(rows) // 10]
            ],
            batch_size=2000,
        )


def _median_ms(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def measure(label_set, viewer) -> dict[str, float]:
    from moderation.selectors.queue import QueueFilters, queue_counts, queue_memes, queue_reasons
    from moderation.selectors.search import SearchQuery, memes_search

    def first_page():
        page = list(queue_memes(label_set=label_set, moderator=viewer)[:50])
        return [queue_reasons(meme=m, label_set=label_set) for m in page]

    def flagged_page():
        filters = QueueFilters(reason="signal", order="offensive")
        return list(queue_memes(label_set=label_set, filters=filters, moderator=viewer)[:50])

    def search():
        return list(memes_search(label_set=label_set, query=SearchQuery(text="number 77"))[:50])

    return {
        "first queue page with reasons": _median_ms(first_page),
        "signal filter by offensive score": _median_ms(flagged_page),
        "counts": _median_ms(lambda: queue_counts(label_set=label_set, moderator=viewer)),
        "text search": _median_ms(search),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        _setup_django(Path(tmp))
        from django.contrib.auth.models import User

        from classifier.models import LabelSet, Meme
        from moderation.models import LabelCorrection
        from moderation.selectors.queue import queue_size

        label_set = LabelSet.objects.get(name="sentiment")
        for size in args.sizes:
            LabelCorrection.objects.filter(undoes__isnull=False).delete()  # undos first: PROTECT
            LabelCorrection.objects.all().delete()
            Meme.objects.all().delete()
            User.objects.filter(username__startswith="bench").delete()
            fill(size, random.Random(0))
            viewer = User.objects.create_user("bench-viewer")
            figures = measure(label_set, viewer)
            waiting = queue_size(label_set=label_set)
            print(
                f"{size:6d} memes ({waiting} waiting): "
                + ", ".join(f"{name} {ms:.1f} ms" for name, ms in figures.items())
                + " (medians of 5)"
            )


if __name__ == "__main__":
    main()
