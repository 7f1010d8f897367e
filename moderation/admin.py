from django.contrib import admin
from django.template.response import TemplateResponse

from classifier.models import ModelVersion
from moderation.learning.promotion import (
    PromotionError,
    PromotionNeedsConfirmation,
    may_promote,
    model_version_promote,
    model_version_rollback,
)
from moderation.models import LabelCorrection, ReviewLease, ReviewSkip


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    """Registered here, not in classifier/admin.py: its actions need moderation's promotion."""

    list_display = ["version", "label_set", "is_active", "created_at", "activated_at"]
    list_filter = ["label_set", "is_active"]
    # Activation goes through the promotion service, which keeps one active version per
    # label set and checks what every other door checks.
    readonly_fields = ["is_active", "created_at", "activated_at"]
    actions = ["promote", "rollback"]

    def has_promote_permission(self, request) -> bool:
        return may_promote(request.user)

    @admin.action(
        description="Make the selected version the active one of its label set",
        permissions=["promote"],
    )
    def promote(self, request, queryset):
        return self._promotion(
            request,
            queryset,
            "promote",
            lambda version, confirmed: model_version_promote(
                model_version=version, user=request.user, confirmed=confirmed
            ),
        )

    @admin.action(
        description="Roll the selected version's label set back to its previously active version",
        permissions=["promote"],
    )
    def rollback(self, request, queryset):
        return self._promotion(
            request,
            queryset,
            "rollback",
            lambda version, confirmed: model_version_rollback(
                label_set=version.label_set, user=request.user, confirmed=confirmed
            ),
        )

    def _promotion(self, request, queryset, action: str, run):
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one version.", level="error")
            return None
        selected = queryset.get()
        try:
            version = run(selected, request.POST.get("confirmed") == "yes")
        except PromotionNeedsConfirmation as exc:
            # An intermediate page, as Django's own "delete selected" action shows: posting
            # it re-runs this action with confirmed=yes.
            return TemplateResponse(
                request,
                "admin/classifier/modelversion/promote_confirmation.html",
                {
                    **self.admin_site.each_context(request),
                    "title": "Promote a version the gate did not approve?",
                    "opts": self.model._meta,
                    "selected": selected,
                    "version": exc.model_version,
                    "warning": exc.warning,
                    "action": action,
                    "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
                },
            )
        except PromotionError as exc:
            self.message_user(request, str(exc), level="error")
            return None
        self.message_user(request, f"{version} is now active for {version.label_set}.")
        return None


@admin.register(LabelCorrection)
class LabelCorrectionAdmin(admin.ModelAdmin):
    """Read-only: the audit trail is written by the review tool, never edited."""

    list_display = [
        "id",
        "meme",
        "label_set",
        "old_label",
        "new_label",
        "unusable",
        "moderator",
        "source",
        "created_at",
    ]
    list_filter = ["label_set", "source", "unusable"]
    search_fields = ["meme__sha256", "meme__original_name", "moderator__username"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ReviewLease)
class ReviewLeaseAdmin(admin.ModelAdmin):
    list_display = ["meme", "label_set", "moderator", "expires_at"]


@admin.register(ReviewSkip)
class ReviewSkipAdmin(admin.ModelAdmin):
    list_display = ["meme", "label_set", "moderator", "created_at"]
