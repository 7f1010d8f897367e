from django.core.management.base import BaseCommand

from classifier import services


class Command(BaseCommand):
    help = "Queue again memes stuck pending or processing (their worker died or the task was lost)."

    def handle(self, *args, **options) -> None:
        count = services.memes_requeue_stale()
        self.stdout.write(f"Re-queued {count} stale meme(s).")
