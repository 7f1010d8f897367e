"""Writes for the classifier app: creating memes, classifying them, model versions."""

import logging
import math
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.base import ContentFile
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone
from django_q.tasks import async_task

from classifier import metrics, ml_bridge, selectors
from classifier.autodecisions.services import auto_decision_apply
from classifier.models import (
    LabelSet,
    Meme,
    ModelVersion,
    Prediction,
    meme_storage,
    user_sees_all_memes,
)
from classifier.queue import enqueue_broker
from classifier.reposts import services as reposts
from classifier.validation import NormalisedImage
from classifier.webhooks.services import webhook_event_emit

logger = logging.getLogger(__name__)

CLASSIFY_TASK = "classifier.tasks.classify_meme"


# --- Memes ----------------------------------------------------------------------------------


def meme_create(
    *, image: NormalisedImage, uploader: AbstractBaseUser | None, caption: str = ""
) -> tuple[Meme, bool]:
    """Store an upload and queue its classification; return (meme, created).

    The same bytes uploaded again return the existing meme. The file is written before
    the row; if the row cannot be written the file is removed again, unless another
    meme (a concurrent upload of the same bytes) owns it. The repost cluster is assigned
    by the classification task (meme_classify), not here: hashing and the cluster lookup
    were a third of an upload's CPU time in the web process (docs/benchmarks.md).
    """
    existing = selectors.meme_find_by_sha256(sha256=image.sha256)
    if existing is not None:
        return existing, False

    storage = meme_storage()
    name = storage.save(meme_file_name(image.sha256, image.extension), ContentFile(image.data))
    try:
        with transaction.atomic():
            meme = Meme.objects.create(
                sha256=image.sha256,
                image=name,
                original_name=image.original_name,
                content_type=image.content_type,
                size_bytes=image.size_bytes,
                width=image.width,
                height=image.height,
                uploader=uploader if uploader and uploader.is_authenticated else None,
                caption=caption.strip(),
                queued_at=timezone.now(),
            )
            _enqueue_on_commit(meme.pk)
    except IntegrityError:
        # A concurrent upload of the same bytes committed first; the file is theirs too.
        winner = selectors.meme_find_by_sha256(sha256=image.sha256)
        if winner is None:
            _delete_unless_referenced(name)
            raise
        return winner, False
    except BaseException:
        _delete_unless_referenced(name)
        raise
    metrics.UPLOADS.inc()
    return meme, True


def meme_file_name(sha256: str, extension: str) -> str:
    return f"memes/{sha256[:2]}/{sha256}.{extension}"


def meme_request_classification(*, meme: Meme) -> Meme:
    """Queue `meme` to be classified again (e.g. after a failure or a new model)."""
    with transaction.atomic():
        meme = Meme.objects.select_for_update().get(pk=meme.pk)
        meme.status = Meme.Status.PENDING
        meme.failure_reason = meme.failure_detail = ""
        meme.attempts = 0
        meme.queued_at = timezone.now()
        meme.save(
            update_fields=[
                "status",
                "failure_reason",
                "failure_detail",
                "attempts",
                "queued_at",
                "updated_at",
            ]
        )
        _enqueue_on_commit(meme.pk)
    return meme


class RetryRefused(Exception):
    """The meme cannot be retried now; the message says why, for the user."""


def meme_retry(*, meme: Meme, user: AbstractBaseUser) -> Meme:
    """Queue a failed (or stuck) meme again, for its uploader or a moderator.

    A classified meme, or one queued or processing normally, is refused: retrying it
    would throw its place away or add predictions no one asked for.
    """
    if not (user.is_authenticated and (user_sees_all_memes(user) or meme.uploader_id == user.pk)):
        raise RetryRefused("Only the meme's uploader or a moderator can retry it.")
    with transaction.atomic():
        meme = Meme.objects.select_for_update().get(pk=meme.pk)
        stale = selectors.meme_is_stale(
            meme=meme, older_than=timedelta(seconds=settings.MEME_STALE_SECONDS)
        )
        if meme.status == Meme.Status.CLASSIFIED:
            raise RetryRefused("This meme is already classified; there is nothing to retry.")
        if meme.status != Meme.Status.FAILED and not stale:
            raise RetryRefused(
                f"This meme is {meme.status} and not stuck yet; it can be retried only "
                "once it has failed or been waiting too long."
            )
        return meme_request_classification(meme=meme)


def meme_enqueue_classification(*, meme_id: int) -> None:
    """Send the classification task for `meme_id` to the worker queue."""
    async_task(
        CLASSIFY_TASK, meme_id, task_name=f"classify-meme-{meme_id}", broker=enqueue_broker()
    )


def _enqueue_on_commit(meme_id: int) -> None:
    # robust: the row is committed either way; if the broker is down the sweep finds
    # the pending meme later instead of the upload failing with a 500. (A plain function,
    # not functools.partial: Django logs a robust callback's failure by its __qualname__.)
    def enqueue() -> None:
        meme_enqueue_classification(meme_id=meme_id)

    transaction.on_commit(enqueue, robust=True)


def _delete_unless_referenced(name: str) -> None:
    if not Meme.objects.filter(image=name).exists():
        meme_storage().delete(name)


# --- Classification -------------------------------------------------------------------------


@dataclass(frozen=True)
class LabelResult:
    model_version: ModelVersion
    classification: ml_bridge.Classification


@dataclass(frozen=True)
class ImageResult:
    ocr_text: str
    results: list[LabelResult]
    # Signals (ml.signals) beside the predictions; None when not computed (see image_signals).
    offensive_score: float | None = None
    nsfw_score: float | None = None


@dataclass(frozen=True)
class Signals:
    offensive_score: float | None
    nsfw_score: float | None


def image_signals(*, picture, text: str) -> Signals:
    """The offensive-language score of `text` and, with NSFW_DETECTION, the NSFW score.

    A signal that cannot be computed is logged and left None: it informs moderators, and
    the meme's predictions must not be lost because of it.
    """
    scores = {}
    for name, compute in (
        ("offensive_score", lambda: ml_bridge.offensive_score(text)),
        ("nsfw_score", lambda: ml_bridge.nsfw_score(picture)),
    ):
        try:
            scores[name] = compute()
        except Exception:
            logger.exception("computing the %s failed", name)
            scores[name] = None
    return Signals(**scores)


class ClassificationError(Exception):
    """A step of the classification failed.

    str(exc) is the detail for the log and staff (it may name paths and library errors);
    `public` is the plain sentence with an error code that users are shown.
    """

    def __init__(self, detail: str, *, code: str, public: str):
        super().__init__(detail)
        self.code = code
        self.public = f"{public} (error {code})."


# Error codes users see (docs/security.md lists them); the detail goes to the log.
FAILURE_NO_MODEL = "M101"
FAILURE_MODEL_LOAD = "M102"
FAILURE_MODEL_RUN = "M103"
FAILURE_IMAGE = "I101"
FAILURE_IMAGE_MISSING = "I102"
FAILURE_OCR = "O101"
FAILURE_GAVE_UP = "W101"
FAILURE_UNEXPECTED = "E100"


def image_classify(
    *, image_bytes: bytes, caption: str = "", versions: list[ModelVersion]
) -> ImageResult:
    """OCR an image, then classify it with every model version in `versions`."""
    if not versions:
        raise ClassificationError(
            "no active model version: activate one in the admin (Model versions)",
            code=FAILURE_NO_MODEL,
            public="No model is active to classify memes with yet",
        )
    try:
        picture = ml_bridge.open_image(image_bytes)
    except Exception as exc:
        raise ClassificationError(
            f"cannot open the image: {exc}",
            code=FAILURE_IMAGE,
            public="The stored picture could not be opened",
        ) from exc
    started = time.perf_counter()
    try:
        ocr_text = ml_bridge.read_text(picture)
    except Exception as exc:
        raise ClassificationError(
            f"OCR failed: {exc}",
            code=FAILURE_OCR,
            public="The text in the picture could not be read",
        ) from exc
    metrics.classification_observe(stage="ocr", seconds=time.perf_counter() - started)

    text = model_text(ocr_text=ocr_text, caption=caption)
    results = []
    for version in versions:
        name = version.label_set.name
        started = time.perf_counter()
        try:
            classification = ml_bridge.classify(name, version.artifact_path, picture, text)
        except ml_bridge.ClassifierUnavailable as exc:
            raise ClassificationError(
                f"classifying with {version.version} failed: {exc}",
                code=FAILURE_MODEL_LOAD,
                public=f"The model for {name} could not be loaded",
            ) from exc
        except Exception as exc:
            raise ClassificationError(
                f"classifying with {version.version} failed: {exc}",
                code=FAILURE_MODEL_RUN,
                public=f"The model for {name} could not classify this meme",
            ) from exc
        metrics.classification_observe(
            stage="model", seconds=time.perf_counter() - started, label_set=name
        )
        results.append(LabelResult(model_version=version, classification=classification))
    signals = image_signals(picture=picture, text=text)
    return ImageResult(
        ocr_text=ocr_text,
        results=results,
        offensive_score=signals.offensive_score,
        nsfw_score=signals.nsfw_score,
    )


def model_text(*, ocr_text: str, caption: str) -> str:
    """Return the text the model reads: the text in the picture, then the caption."""
    return "\n".join(part for part in (ocr_text.strip(), caption.strip()) if part)


def meme_classify(*, meme_id: int) -> Meme | None:
    """Run OCR and every active model on a meme and store the predictions.

    Idempotent: a meme that is already classified, or that another worker is processing
    right now, is left alone. Any error marks the meme failed with the reason; it is never
    left `processing`.
    """
    meme = _meme_claim(meme_id)
    if meme is None:
        return None
    started = time.perf_counter()
    try:
        with meme.image.open("rb") as fh:
            image_bytes = fh.read()
        _meme_cluster(meme, image_bytes)
        outcome = image_classify(
            image_bytes=image_bytes,
            caption=meme.caption,
            versions=selectors.model_versions_active(),
        )
    except Exception as exc:
        logger.exception("classifying meme %s failed", meme_id)
        return _meme_fail(meme, exc)
    meme = _meme_store_result(meme, outcome)
    metrics.classification_observe(stage="total", seconds=time.perf_counter() - started)
    return meme


def _meme_cluster(meme: Meme, image_bytes: bytes) -> None:
    """Put the meme in its repost cluster before its predictions exist.

    So a meme is in its cluster (and the cluster's label suggested on its review page) by
    the time it reaches the queue. A failure here is logged and leaves the meme unhashed
    (backfill_clusters hashes it later); it never fails the classification.
    """
    hashes = reposts.image_hashes_or_none(image_bytes)
    if hashes is None:
        return
    try:
        reposts.meme_cluster_assign(meme=meme, hashes=hashes)
    except DatabaseError:
        logger.exception("meme %s: repost cluster assignment failed", meme.pk)


def _meme_claim(meme_id: int) -> Meme | None:
    stale_after = timedelta(seconds=settings.MEME_STALE_SECONDS)
    with transaction.atomic():
        meme = Meme.objects.select_for_update().filter(pk=meme_id).first()
        if meme is None or meme.status in (Meme.Status.CLASSIFIED, Meme.Status.FAILED):
            return None
        now = timezone.now()
        if (
            meme.status == Meme.Status.PROCESSING
            and meme.processing_started_at
            and meme.processing_started_at > now - stale_after
        ):
            return None  # another worker has it
        if meme.attempts >= settings.MEME_MAX_ATTEMPTS:
            meme.status = Meme.Status.FAILED
            meme.failure_reason = (
                f"Classification was given up after {meme.attempts} attempts "
                f"(error {FAILURE_GAVE_UP})."
            )
            meme.failure_detail = (
                f"gave up after {meme.attempts} attempts: the worker died or timed out each time"
            )
            meme.finished_at = now
            meme.save(
                update_fields=[
                    "status",
                    "failure_reason",
                    "failure_detail",
                    "finished_at",
                    "updated_at",
                ]
            )
            webhook_event_emit(type="meme.failed", meme_id=meme.pk)
            return None
        meme.status = Meme.Status.PROCESSING
        meme.attempts += 1
        meme.processing_started_at = now
        meme.failure_reason = meme.failure_detail = ""
        meme.save(
            update_fields=[
                "status",
                "attempts",
                "processing_started_at",
                "failure_reason",
                "failure_detail",
                "updated_at",
            ]
        )
    return meme


@transaction.atomic
def _meme_fail(meme: Meme, exc: BaseException) -> Meme:
    meme.status = Meme.Status.FAILED
    meme.failure_reason = failure_sentence(exc)
    meme.failure_detail = (str(exc) or type(exc).__name__)[:2000]
    meme.finished_at = timezone.now()
    meme.save(
        update_fields=["status", "failure_reason", "failure_detail", "finished_at", "updated_at"]
    )
    webhook_event_emit(type="meme.failed", meme_id=meme.pk)
    return meme


def failure_sentence(exc: BaseException) -> str:
    """What users are told about `exc`: never its text, which may name server paths."""
    if isinstance(exc, ClassificationError):
        return exc.public
    if isinstance(exc, FileNotFoundError):
        return f"The stored picture of this meme is missing (error {FAILURE_IMAGE_MISSING})."
    return f"Classification failed unexpectedly; it has been logged (error {FAILURE_UNEXPECTED})."


@transaction.atomic
def _meme_store_result(meme: Meme, outcome: ImageResult) -> Meme:
    for result in outcome.results:
        c = result.classification
        confidence, margin, entropy = probability_stats(c.probabilities)
        prediction = Prediction.objects.create(
            meme=meme,
            label_set=result.model_version.label_set,
            model_version=result.model_version,
            label=c.label,
            probabilities=c.probabilities,
            confidence=confidence,
            margin=margin,
            entropy=entropy,
            duration_ms=c.duration_ms,
            explanation=c.explanation,
        )
        auto_decision_apply(prediction=prediction)
    meme.ocr_text = outcome.ocr_text
    meme.offensive_score = outcome.offensive_score
    meme.nsfw_score = outcome.nsfw_score
    meme.status = Meme.Status.CLASSIFIED
    meme.failure_reason = meme.failure_detail = ""
    meme.finished_at = timezone.now()
    meme.save(
        update_fields=[
            "ocr_text",
            "offensive_score",
            "nsfw_score",
            "status",
            "failure_reason",
            "failure_detail",
            "finished_at",
            "updated_at",
        ]
    )
    webhook_event_emit(type="meme.classified", meme_id=meme.pk)
    return meme


def probability_stats(probabilities: dict[str, float]) -> tuple[float, float, float]:
    """Return (confidence, margin, entropy in nats) of a class distribution."""
    ranked = sorted(probabilities.values(), reverse=True)
    confidence = ranked[0] if ranked else 0.0
    margin = confidence - ranked[1] if len(ranked) > 1 else confidence
    entropy = -sum(p * math.log(p) for p in ranked if p > 0)
    return confidence, margin, entropy


def memes_requeue_stale() -> int:
    """Queue again every meme stuck pending or processing; return how many."""
    stale = selectors.memes_stale(older_than=timedelta(seconds=settings.MEME_STALE_SECONDS))
    with transaction.atomic():
        meme_ids = list(stale.select_for_update().values_list("pk", flat=True))
        Meme.objects.filter(pk__in=meme_ids).update(
            status=Meme.Status.PENDING, queued_at=timezone.now()
        )
        for meme_id in meme_ids:
            _enqueue_on_commit(meme_id)
    if meme_ids:
        logger.warning("re-queued %d stale meme(s): %s", len(meme_ids), meme_ids)
    return len(meme_ids)


# --- Model versions -------------------------------------------------------------------------


@transaction.atomic
def model_version_register(
    *,
    label_set: LabelSet,
    version: str,
    artifact_path: str,
    metrics: dict | None = None,
    training_counts: dict | None = None,
    parent: ModelVersion | None = None,
    triggered_by: AbstractBaseUser | None = None,
    activate: bool = False,
) -> ModelVersion:
    """Record a trained model folder as a version of `label_set`."""
    model_version = ModelVersion.objects.create(
        label_set=label_set,
        version=version,
        artifact_path=ml_bridge.relative_artifact_path(artifact_path),
        metrics=metrics or {},
        training_counts=training_counts or {},
        parent=parent,
        triggered_by=triggered_by,
    )
    if activate:
        model_version = model_version_activate(model_version=model_version)
    return model_version


@transaction.atomic
def model_version_activate(*, model_version: ModelVersion) -> ModelVersion:
    """Make `model_version` the one active version of its label set.

    Workers pick it up on their next task (the bridge caches models by artifact path).
    """
    # Lock the label set's versions so two promotions cannot both end up active.
    list(ModelVersion.objects.select_for_update().filter(label_set=model_version.label_set_id))
    ModelVersion.objects.filter(label_set=model_version.label_set_id, is_active=True).exclude(
        pk=model_version.pk
    ).update(is_active=False)
    model_version.is_active = True
    model_version.activated_at = timezone.now()
    model_version.save(update_fields=["is_active", "activated_at"])
    webhook_event_emit(
        type="model.promoted",
        model_version_id=model_version.pk,
        details={"label_set": model_version.label_set.name, "version": model_version.version},
    )
    return model_version
