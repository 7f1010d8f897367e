from django.core.management.base import BaseCommand

from moderation.learning.retrain import retrain_runs_sweep


class Command(BaseCommand):
    help = "Mark failed the retrain runs whose worker died or that no worker ever took."

    def handle(self, *args, **options) -> None:
        count = retrain_runs_sweep()
        self.stdout.write(f"Marked {count} stuck retrain run(s) failed.")
