from django.core.management.base import BaseCommand, CommandError

from classifier.models import ModelVersion
from moderation.learning.retrain import RetrainError, model_version_promote


class Command(BaseCommand):
    help = "Make a model version the active one of its label set."

    def add_arguments(self, parser):
        parser.add_argument("version")

    def handle(self, *args, **opts):
        version = ModelVersion.objects.filter(version=opts["version"]).first()
        if version is None:
            raise CommandError(f"unknown model version {opts['version']!r} (see manage.py models)")
        try:
            version = model_version_promote(model_version=version)
        except RetrainError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{version.version} is now the active {version.label_set.name} model")
