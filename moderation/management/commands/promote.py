from functools import partial

from django.core.management.base import BaseCommand, CommandError

from classifier.models import ModelVersion
from moderation.learning.promotion import model_version_promote
from moderation.management.promotion_args import (
    acting_user,
    add_promotion_arguments,
    run_with_confirmation,
)


class Command(BaseCommand):
    help = "Make a model version the active one of its label set."

    def add_arguments(self, parser):
        parser.add_argument("version")
        add_promotion_arguments(parser)

    def handle(self, *args, **opts):
        version = ModelVersion.objects.filter(version=opts["version"]).first()
        if version is None:
            raise CommandError(f"unknown model version {opts['version']!r} (see manage.py models)")
        promote = partial(
            model_version_promote, model_version=version, user=acting_user(opts["as_user"])
        )
        version = run_with_confirmation(self, promote, yes=opts["yes"])
        self.stdout.write(f"{version.version} is now the active {version.label_set.name} model")
