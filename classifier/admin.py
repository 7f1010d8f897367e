from django.contrib import admin

from classifier import services
from classifier.models import LabelSet, Meme, ModelVersion, Prediction


@admin.register(LabelSet)
class LabelSetAdmin(admin.ModelAdmin):
    list_display = ["name", "classes", "alert_class"]


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ["version", "label_set", "is_active", "created_at", "activated_at"]
    list_filter = ["label_set", "is_active"]
    # Activation goes through the service, which keeps one active version per label set.
    readonly_fields = ["is_active", "created_at", "activated_at"]
    actions = ["activate"]

    @admin.action(description="Make the selected version the active one of its label set")
    def activate(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one version.", level="error")
            return
        version = services.model_version_activate(model_version=queryset.get())
        self.message_user(request, f"{version} is now active for {version.label_set}.")


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
