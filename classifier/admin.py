from django.contrib import admin

from classifier.models import LabelSet, Meme, Prediction


@admin.register(LabelSet)
class LabelSetAdmin(admin.ModelAdmin):
    list_display = ["name", "classes", "alert_class"]


# ModelVersion's admin is registered by moderation/admin.py: its promote action calls the
# promotion service, which lives in moderation (classifier never imports moderation).


class PredictionInline(admin.TabularInline):
    model = Prediction
    extra = 0
    readonly_fields = [
        "label_set",
        "model_version",
        "label",
        "probabilities",
        "confidence",
        "margin",
        "entropy",
        "duration_ms",
        "created_at",
    ]
    can_delete = False


@admin.register(Meme)
class MemeAdmin(admin.ModelAdmin):
    list_display = ["pk", "original_name", "status", "uploader", "created_at"]
    list_filter = ["status"]
    search_fields = ["original_name", "ocr_text", "caption", "sha256"]
    readonly_fields = [
        "sha256",
        "image",
        "size_bytes",
        "width",
        "height",
        "failure_reason",
        "failure_detail",
        "created_at",
    ]
    inlines = [PredictionInline]


from classifier.webhooks import admin as _webhooks_admin  # noqa: E402, F401  (registers)
