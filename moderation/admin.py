from django.contrib import admin

from moderation.models import LabelCorrection, ReviewLease, ReviewSkip


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
