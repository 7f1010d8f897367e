from django.apps import AppConfig


class ClassifierConfig(AppConfig):
    name = "classifier"
    verbose_name = "Classifier"

    def ready(self) -> None:
        import warnings

        from django.conf import settings
        from PIL import Image

        from classifier import checks  # noqa: F401  (registers the system checks)

        # Pillow only warns between its pixel limit and twice that. Make the limit the
        # upload limit and the warning an error, for every Pillow use in the process (the
        # upload validation checks the size itself as well).
        Image.MAX_IMAGE_PIXELS = settings.MAX_IMAGE_PIXELS
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        self._metrics_on_server_start()

    @staticmethod
    def _metrics_on_server_start() -> None:
        import sys

        from django.conf import settings

        # A qcluster or runserver starting is a new run: the sample files of processes
        # that are gone would otherwise add a previous run's counts to this one's. (The
        # gunicorn master does the same in gunicorn.conf.py's on_starting.)
        if sys.argv[1:2] in (["qcluster"], ["runserver"]):
            from classifier.metrics import metrics_dir_clean, worker_metrics_serve

            metrics_dir_clean()
            if sys.argv[1] == "qcluster" and settings.METRICS_PORT:
                worker_metrics_serve(settings.METRICS_PORT)
