from django.core.management.base import BaseCommand, CommandError

from classifier.models import LabelSet
from moderation.learning.retrain import RetrainError
from moderation.learning.versions import model_version_rollback


class Command(BaseCommand):
    help = "Re-activate the model version that was active before the current one."

    def add_arguments(self, parser):
        parser.add_argument("--label-set", default="sentiment")

    def handle(self, *args, **opts):
        label_set = LabelSet.objects.filter(name=opts["label_set"]).first()
        if label_set is None:
            raise CommandError(f"unknown label set {opts['label_set']!r}")
        try:
            version = model_version_rollback(label_set=label_set)
        except RetrainError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"rolled back: {version.version} is now the active {label_set.name} model"
        )
