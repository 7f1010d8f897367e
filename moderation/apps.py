from django.apps import AppConfig


class ModerationConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "moderation"
    verbose_name = "Moderation"

    def ready(self) -> None:
        # Moderation's fields on the API's memes (moderation/api/__init__.py says why).
        from classifier.extensions import meme_extension_register
        from moderation.api.extension import ModerationMemeExtension

        meme_extension_register(ModerationMemeExtension())
