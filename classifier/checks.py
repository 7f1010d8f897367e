"""System checks: a setting that cannot work stops `manage.py` commands (qcluster, migrate,
check) at start, instead of failing each meme later."""

from django.conf import settings
from django.core.checks import Error, register

from classifier import ml_bridge


@register()
def nsfw_detector_check(app_configs, **kwargs) -> list[Error]:
    if settings.NSFW_DETECTION and not ml_bridge.nsfw_detector_installed():
        return [
            Error(
                "NSFW_DETECTION is on but nudenet, its detector, is not installed.",
                hint="pip install --no-deps -r requirements-nsfw.txt, or set NSFW_DETECTION=0.",
                id="classifier.E001",
            )
        ]
    return []
