"""What the dashboard's moderator agreement costs: kappa, Fleiss' kappa and AC1 from the DB.

A temporary SQLite database with N memes, each decided by two of five moderators (and a
tenth of them by a third), 80% agreement; times `moderator_agreement`.

    .venv/bin/python -m bench.agreement [--sizes 1000 10000]
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

    from classifier.models import LabelSet, Meme
    from moderation.models import LabelCorrection

    label_set = LabelSet.objects.get(name="sentiment")
    moderators = [User.objects.create_user(f"bench{i}") for i in range(5)]
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
                )  # fmt: skip
                for i in range(n_memes)
            ],
            batch_size=2000,
        )
        rows = []
        for meme in memes:
            truth = rng.choice(label_set.classes)
            raters = rng.sample(moderators, 3 if rng.random() < 0.1 else 2)
            for who in raters:
                label = truth if rng.random() < 0.8 else rng.choice(label_set.classes)
                rows.append(
                    LabelCorrection(
                        meme=meme, label_set=label_set, new_label=label, old_label="", moderator=who
                    )  # fmt: skip
                )
        LabelCorrection.objects.bulk_create(rows, batch_size=2000)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        _setup_django(Path(tmp))
        from django.contrib.auth.models import User

        from classifier.models import LabelSet, Meme
        from moderation.models import LabelCorrection
        from moderation.selectors.agreement import moderator_agreement

        label_set = LabelSet.objects.get(name="sentiment")
        for size in args.sizes:
            LabelCorrection.objects.all().delete()
            Meme.objects.all().delete()
            User.objects.filter(username__startswith="bench").delete()
            fill(size, random.Random(0))
            times = []
            for _ in range(5):
                start = time.perf_counter()
                result = moderator_agreement(label_set=label_set)
                times.append((time.perf_counter() - start) * 1000)
            print(
                f"{size:6d} memes rated by 2-3 moderators: {statistics.median(times):7.1f} ms "
                f"(median of 5); Fleiss {result.fleiss_kappa:.3f}, AC1 {result.gwet_ac1:.3f}, "
                f"{len(result.pairs)} moderator pairs"
            )


if __name__ == "__main__":
    main()
