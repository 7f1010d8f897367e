"""Hash every meme that has no perceptual hash yet and put it in its repost cluster."""

from django.core.management.base import BaseCommand

from classifier.reposts import selectors, services


class Command(BaseCommand):
    help = (
        "Compute the pHash and dHash of memes stored before repost clusters existed (or whose "
        "hashing failed) and cluster them. --recluster regroups every hashed meme from scratch."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--recluster",
            action="store_true",
            help="Afterwards, forget all clusters and regroup every meme, oldest first.",
        )

    def handle(self, *args, recluster: bool = False, **options):
        hashed = failed = 0
        # Oldest first, so each cluster grows from its earliest meme as it would have live.
        for meme in selectors.memes_unhashed().order_by("created_at", "pk").iterator():
            if services.meme_hash(meme=meme) is None:
                failed += 1
                self.stderr.write(f"meme {meme.pk}: cannot hash its image")
            else:
                hashed += 1
        self.stdout.write(f"hashed {hashed} meme(s), {failed} failed")
        if recluster:
            total = services.clusters_rebuild()
            self.stdout.write(f"regrouped {total} meme(s)")
