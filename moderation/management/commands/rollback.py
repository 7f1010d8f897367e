from functools import partial

from django.core.management.base import BaseCommand, CommandError

from classifier.models import LabelSet
from moderation.learning.promotion import model_version_rollback
from moderation.management.promotion_args import (
    acting_user,
    add_promotion_arguments,
    run_with_confirmation,
)


class Command(BaseCommand):
    help = "Re-activate the model version that was active before the current one."

    def add_arguments(self, parser):
        parser.add_argument("--label-set", default="sentiment")
        add_promotion_arguments(parser)

    def handle(self, *args, **opts):
        label_set = LabelSet.objects.filter(name=opts["label_set"]).first()
        if label_set is None:
            raise CommandError(f"unknown label set {opts['label_set']!r}")
        rollback = partial(
            model_version_rollback, label_set=label_set, user=acting_user(opts["as_user"])
        )
        version = run_with_confirmation(self, rollback, yes=opts["yes"])
        self.stdout.write(
            f"rolled back: {version.version} is now the active {label_set.name} model"
        )
