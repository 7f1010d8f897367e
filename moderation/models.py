from django.conf import settings
from django.db import models


class LabelCorrection(models.Model):
    """One human decision about a meme for one label set.

    Rows are only ever added: the meme's current human label for a label set is
    its latest row, and the whole trail is kept as the audit history. Foreign
    keys protect their targets so that history cannot vanish with a delete.
    """

    class Source(models.TextChoices):
        MODERATOR = "moderator", "Moderator"
        BULK = "bulk", "Bulk action"
        IMPORT = "import", "Dataset import"
        API = "api", "API"
        # Takes back one earlier decision (`undoes`): the meme returns to its state before it.
        UNDO = "undo", "Undo"
        # A moderator sent a decided meme back to the queue (from search).
        REOPEN = "reopen", "Reopened"

    meme = models.ForeignKey(
        "classifier.Meme", on_delete=models.PROTECT, related_name="corrections"
    )
    label_set = models.ForeignKey(
        "classifier.LabelSet", on_delete=models.PROTECT, related_name="corrections"
    )
    # The label the meme carried just before this decision: the previous human
    # label, else the model's prediction, else "".
    old_label = models.CharField(max_length=64, blank=True)
    # "" only when the meme was marked unusable.
    new_label = models.CharField(max_length=64, blank=True)
    # What the model version below predicted, kept so that disagreements can be
    # listed without re-deriving which prediction the moderator saw.
    predicted_label = models.CharField(max_length=64, blank=True)
    # Filled only when the decision changed the text (see text_changed); "" is a
    # real value there (the moderator cleared text that OCR hallucinated).
    old_text = models.TextField(blank=True)
    new_text = models.TextField(blank=True)
    text_changed = models.BooleanField(default=False)
    unusable = models.BooleanField(
        default=False, help_text="Not a meme, or unusable for this label set."
    )
    moderator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="label_corrections",
        help_text="Empty for imported labels.",
    )
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.MODERATOR)
    model_version = models.ForeignKey(
        "classifier.ModelVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="corrections",
        help_text="The model version whose prediction the decision was made on.",
    )
    # The decision an undo takes back; its row stays, this one records the undo.
    undoes = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="undone_by"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["meme", "label_set", "-id"])]
        permissions = [("moderate", "Can review memes and correct their labels")]

    def __str__(self) -> str:
        label = "unusable" if self.unusable else self.new_label
        return f"{self.label_set_id}/{self.meme_id}: {self.old_label!r} -> {label!r}"

    @property
    def is_reset(self) -> bool:
        """True when this row leaves the meme without a human label (undo, reopen)."""
        return not self.unusable and not self.new_label

    @property
    def label_changed(self) -> bool:
        return self.unusable or self.old_label != self.new_label


class ReviewLease(models.Model):
    """A short claim on a meme so the queue does not serve it to two moderators."""

    meme = models.ForeignKey(
        "classifier.Meme", on_delete=models.CASCADE, related_name="review_leases"
    )
    label_set = models.ForeignKey(
        "classifier.LabelSet", on_delete=models.CASCADE, related_name="review_leases"
    )
    moderator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="review_leases"
    )
    expires_at = models.DateTimeField(db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["meme", "label_set"], name="one_lease_per_meme_and_label_set"
            )
        ]

    def __str__(self) -> str:
        return f"{self.meme_id}/{self.label_set_id} by {self.moderator_id}"


class ReviewSkip(models.Model):
    """A moderator passed on a meme; the queue keeps it away from them a while."""

    meme = models.ForeignKey(
        "classifier.Meme", on_delete=models.CASCADE, related_name="review_skips"
    )
    label_set = models.ForeignKey(
        "classifier.LabelSet", on_delete=models.CASCADE, related_name="review_skips"
    )
    moderator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="review_skips"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"{self.meme_id}/{self.label_set_id} skipped by {self.moderator_id}"


class JobStatus(models.TextChoices):
    """Where a job run on the slow queue (a retrain, a dataset import) stands."""

    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class RetrainRun(models.Model):
    """One run of `retrain` for a label set: its progress while it runs, its verdict after.

    Kept forever, so the dashboard can show each new version's gate metrics next
    to the version it was compared with, and why it was or was not promoted.
    """

    Status = JobStatus

    label_set = models.ForeignKey(
        "classifier.LabelSet", on_delete=models.PROTECT, related_name="retrain_runs"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    # What the run is doing now ("text features", "training", ...) and how far it is.
    stage = models.CharField(max_length=64, blank=True)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    force = models.BooleanField(default=False)
    promote = models.BooleanField(default=True)
    epochs = models.PositiveSmallIntegerField(null=True, blank=True)
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    trigger = models.CharField(max_length=32, default="command")
    new_version = models.ForeignKey(
        "classifier.ModelVersion",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    compared_with = models.ForeignKey(
        "classifier.ModelVersion",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # {"new": {...}, "active": {...}} headline metrics on the same gate split.
    gate_metrics = models.JSONField(default=dict, blank=True)
    promoted = models.BooleanField(default=False)
    decision = models.TextField(blank=True)
    error = models.TextField(blank=True)
    counts = models.JSONField(default=dict, blank=True)
    # The django-q2 task that runs it; empty until the broker accepted it, so a run queued
    # long ago with no task id was never handed to a worker (see retrain_runs_sweep).
    task_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One run at a time per label set, enforced by the database so two clicks (or a
            # click and a command) racing each other cannot both start one.
            models.UniqueConstraint(
                fields=["label_set"],
                condition=models.Q(status__in=["queued", "running"]),
                name="one_open_retrain_run_per_label_set",
            )
        ]

    def __str__(self) -> str:
        return f"retrain {self.label_set_id} #{self.pk} ({self.status})"

    @property
    def progress_percent(self) -> int | None:
        return round(100 * self.done / self.total) if self.total else None


class SecondReview(models.Model):
    """A decided meme sent back to the queue for a second, different moderator.

    Memes are drawn by a hash of their content (DOUBLE_REVIEW_RATE) when their first
    moderator decides; the second moderator reviews blind (the first decision is not
    shown) and records their own LabelCorrection. The pairs feed the agreement figures.
    """

    meme = models.ForeignKey(
        "classifier.Meme", on_delete=models.PROTECT, related_name="second_reviews"
    )
    label_set = models.ForeignKey(
        "classifier.LabelSet", on_delete=models.PROTECT, related_name="second_reviews"
    )
    first = models.ForeignKey(LabelCorrection, on_delete=models.PROTECT, related_name="+")
    second = models.ForeignKey(
        LabelCorrection, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["meme", "label_set"], name="one_second_review_per_meme_and_label_set"
            )
        ]

    def __str__(self) -> str:
        state = "done" if self.second_id else "open"
        return f"second review of {self.meme_id}/{self.label_set_id} ({state})"


class DatasetImport(models.Model):
    """A labelled CSV plus a zip of its images, uploaded from the dashboard.

    The files are unpacked into ``folder`` and imported on the slow queue by the same
    service as `manage.py import_dataset`; the row shows progress while it runs and the
    summary (imported, duplicates, problems) after.
    """

    Status = JobStatus

    label_set = models.ForeignKey(
        "classifier.LabelSet", on_delete=models.PROTECT, related_name="dataset_imports"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    folder = models.CharField(max_length=500)
    csv_name = models.CharField(max_length=255)
    label_column = models.CharField(max_length=128)
    text_column = models.CharField(max_length=128, blank=True)
    image_column = models.CharField(max_length=128, default="image_name")
    label_map = models.JSONField(default=dict, blank=True)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    summary = models.JSONField(default=dict, blank=True)
    problems = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"import {self.label_set_id} #{self.pk} ({self.status})"

    @property
    def progress_percent(self) -> int | None:
        return round(100 * self.done / self.total) if self.total else None
