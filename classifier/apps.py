from django.apps import AppConfig


class ClassifierConfig(AppConfig):
    name = "classifier"
    verbose_name = "Classifier"

    def ready(self) -> None:
        import warnings

        from django.conf import settings
        from PIL import Image

        # Pillow only warns between its pixel limit and twice that. Make the limit the
        # upload limit and the warning an error, for every Pillow use in the process (the
        # upload validation checks the size itself as well).
        Image.MAX_IMAGE_PIXELS = settings.MAX_IMAGE_PIXELS
        warnings.simplefilter("error", Image.DecompressionBombWarning)
