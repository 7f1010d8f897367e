from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from classifier.models import LabelSet
from moderation.learning.versions import ReclassifyError, reclassify, reclassify_enqueue


class Command(BaseCommand):
    help = "Add a prediction by the active model to every meme no human has labelled."

    def add_arguments(self, parser):
        parser.add_argument("--label-set", default="sentiment")
        parser.add_argument("--background", action="store_true", help="queue it on the slow worker")

    def handle(self, *args, **opts):
        label_set = LabelSet.objects.filter(name=opts["label_set"]).first()
        if label_set is None:
            raise CommandError(f"unknown label set {opts['label_set']!r}")
        if opts["background"]:
            reclassify_enqueue(label_set=label_set)
            self.stdout.write(f"queued reclassification of {label_set.name} on the slow queue")
            return
        bar = tqdm(desc="reclassifying", unit="meme", disable=opts["verbosity"] == 0)

        def on_batch(done, total):
            bar.total = total
            bar.update(done - bar.n)

        try:
            n = reclassify(label_set=label_set, on_batch=on_batch)
        except ReclassifyError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            bar.close()
        self.stdout.write(f"reclassified {n} memes for {label_set.name}")
