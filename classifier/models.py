from django.conf import settings
from django.core.files.storage import storages
from django.db import models
from django.db.models import Q


def meme_storage():
    """Return the storage meme files live in (see STORAGES["memes"])."""
    return storages["memes"]


class LabelSet(models.Model):
    """A classification task: the classes a meme can be given, e.g. sentiment."""

    name = models.SlugField(max_length=64, unique=True)
    classes = models.JSONField(help_text="Ordered list of class names.")
    # The class moderators watch for (e.g. "negative"); blank when none is special.
    alert_class = models.CharField(max_length=64, blank=True)
    description = models.TextField(blank=True)
    # Below this confidence the review page preselects no class: the moderator has to pick,
    # so an unsure model is judged rather than agreed with.
    review_threshold = models.FloatField(
        default=0.8,
        help_text="Model confidence (0–1) from which the review page preselects its class.",
    )
    # Automatic decisions: a moderator sets the precision they must reach; the
    # threshold is derived from human-confirmed predictions of the model version
    # named below (moderation.autodecisions) and applies to that version only. The feature:
    # classifier/autodecisions/.
    auto_target_precision = models.FloatField(
        null=True, blank=True, help_text="e.g. 0.98; empty turns automatic decisions off."
    )
    auto_audit_rate = models.FloatField(
        default=0.05, help_text="Share of automatic decisions sent to the queue for an audit."
    )
    auto_threshold = models.FloatField(null=True, blank=True)
    auto_threshold_version = models.ForeignKey(
        "ModelVersion", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    auto_threshold_evidence = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


# Who may promote a model version or roll one back, at every door (dashboard, admin, API,
# commands with --as): superusers, and users or groups it is given to in the admin.
PROMOTE_PERMISSION = "classifier.promote_modelversion"


class ModelVersion(models.Model):
    """A trained model for one label set, stored as a folder that ml.load_model reads."""

    label_set = models.ForeignKey(LabelSet, on_delete=models.PROTECT, related_name="versions")
    version = models.CharField(max_length=128, unique=True)
    # Relative to BASE_DIR when the folder is inside the repository (the shipped default),
    # absolute otherwise (versions trained into ML_MODEL_ROOT).
    artifact_path = models.CharField(max_length=500)
    metrics = models.JSONField(default=dict, blank=True)
    training_counts = models.JSONField(default=dict, blank=True)
    parent = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="children"
    )
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    is_active = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    activated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["label_set"],
                condition=Q(is_active=True),
                name="one_active_model_version_per_label_set",
            )
        ]
        permissions = [("promote_modelversion", "Can promote or roll back a model version")]

    def __str__(self) -> str:
        return self.version


# The permission that makes a user a moderator (defined by the moderation app, which
# depends on this one: the name is all this app needs of it).
MODERATE_PERMISSION = "moderation.moderate"


def user_sees_all_memes(user) -> bool:
    """Moderators and staff see every meme, and who uploaded and labelled it."""
    return bool(
        user is not None
        and user.is_authenticated
        and (user.is_staff or user.has_perm(MODERATE_PERMISSION))
    )


class MemeQuerySet(models.QuerySet):
    def visible_to(self, user, *, session_meme_ids=()) -> "MemeQuerySet":
        """The memes `user` may see: the one visibility rule (docs/security.md).

        Moderators and staff see all; any other user (an API token acts as its user) sees
        the memes they uploaded; an anonymous visitor (ALLOW_ANONYMOUS_UPLOAD) sees the
        ones uploaded in their own session, whose ids the caller passes in. Everything
        else is treated as not found, so ids and file names reveal nothing.
        """
        if user_sees_all_memes(user):
            return self
        if user is not None and user.is_authenticated:
            return self.filter(uploader=user)
        ids = [i for i in session_meme_ids if isinstance(i, int)]
        return self.filter(pk__in=ids, uploader__isnull=True)


class Meme(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        PROCESSING = "processing", "Processing"
        CLASSIFIED = "classified", "Classified"
        FAILED = "failed", "Failed"

    # SHA-256 of the bytes the user uploaded: the same bytes always find this meme.
    sha256 = models.CharField(max_length=64, unique=True)
    # A normalised copy (upright, 8-bit, metadata stripped) named after sha256; see
    # classifier/validation.py for why the original bytes are not kept.
    image = models.FileField(storage=meme_storage, max_length=255)
    original_name = models.CharField(max_length=255, blank=True)
    # Content type of the stored file (image/jpeg or image/png).
    content_type = models.CharField(max_length=32)
    # Size of the upload as received, in bytes.
    size_bytes = models.PositiveIntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    uploader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="memes",
    )
    caption = models.TextField(blank=True, help_text="Text typed by the uploader.")
    ocr_text = models.TextField(blank=True)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    # What the uploader is told: a plain sentence with an error code (classifier/failures.py).
    failure_reason = models.TextField(blank=True)
    # The exception behind it (paths, library messages): for staff in the admin only.
    failure_detail = models.TextField(blank=True)
    # Signals (ml.signals), filled in by the classification task: probability that the
    # meme's text (OCR + caption) is offensive language, and that the picture is NSFW
    # (only when NSFW_DETECTION is on). Null until computed.
    offensive_score = models.FloatField(null=True, blank=True, db_index=True)
    nsfw_score = models.FloatField(null=True, blank=True, db_index=True)
    # Classification runs started; a meme whose worker keeps dying is given up on.
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    processing_started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = MemeQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"meme {self.pk} ({self.original_name or self.sha256[:12]})"

    @property
    def is_done(self) -> bool:
        return self.status in (self.Status.CLASSIFIED, self.Status.FAILED)


class Prediction(models.Model):
    """One classification of a meme for one label set; reclassifying adds another."""

    meme = models.ForeignKey(Meme, on_delete=models.CASCADE, related_name="predictions")
    label_set = models.ForeignKey(LabelSet, on_delete=models.PROTECT, related_name="predictions")
    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.PROTECT, related_name="predictions"
    )
    label = models.CharField(max_length=64)
    probabilities = models.JSONField(help_text="{class: probability}")
    # Probability of the predicted class.
    confidence = models.FloatField()
    # Top-1 minus top-2 probability: small margins are the uncertain ones.
    margin = models.FloatField()
    # Shannon entropy of the probabilities, in nats.
    entropy = models.FloatField()
    duration_ms = models.PositiveIntegerField()
    # Which modality decided and which caption words mattered (ml.explain); {} when the
    # prediction was made without one (bulk reclassification).
    explanation = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["meme", "label_set", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.label_set}: {self.label} ({self.confidence:.2f})"


class RepostCluster(models.Model):
    """Memes whose pictures are near-identical: reposts, re-encodes, recaptions of a template.

    Every hashed meme belongs to one cluster; a meme with no near-duplicate is alone in its
    own. See ml/near_duplicates.py for what counts as near-identical.
    """

    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"repost cluster {self.pk}"


class MemeHash(models.Model):
    """A meme's perceptual hashes and the repost cluster they put it in."""

    meme = models.OneToOneField(
        Meme, on_delete=models.CASCADE, primary_key=True, related_name="image_hash"
    )
    # Unsigned 64-bit hashes stored two's-complement in signed BIGINT columns.
    phash = models.BigIntegerField()
    dhash = models.BigIntegerField()
    # The pHash's four 16-bit bands, each indexed: a near-duplicate lookup is four
    # exact-match IN queries instead of a scan of every hash (ml.near_duplicates).
    phash_band0 = models.PositiveIntegerField(db_index=True)
    phash_band1 = models.PositiveIntegerField(db_index=True)
    phash_band2 = models.PositiveIntegerField(db_index=True)
    phash_band3 = models.PositiveIntegerField(db_index=True)
    cluster = models.ForeignKey(RepostCluster, on_delete=models.PROTECT, related_name="members")
    # The meme it matched when it joined the cluster, and how far apart (pHash + dHash bits).
    matched = models.ForeignKey(
        Meme, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    distance = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"hash of meme {self.meme_id} (cluster {self.cluster_id})"


# Automatic decisions and webhooks live in packages of their own; importing their models
# here registers them with the app.
from classifier.autodecisions.models import AutoDecision  # noqa: E402, F401
from classifier.webhooks.models import (  # noqa: E402, F401
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)
