"""Writes of the moderation app: leases, skips and label corrections."""

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from classifier.models import LabelSet, Meme
from classifier.reposts.selectors import cluster_meme_ids
from classifier.webhooks.services import webhook_event_emit
from moderation.models import LabelCorrection, ReviewLease, ReviewSkip, SecondReview
from moderation.selectors.agreement import RATING_SOURCES, second_review_drawn
from moderation.selectors.memes import (
    meme_current_text,
    meme_human_decision,
    meme_latest_correction,
    meme_latest_prediction,
    meme_latest_text_correction,
    meme_lease,
)
from moderation.selectors.queue import QueueFilters, queue_candidates

# How many candidates review_lease_next tries before giving up on a race.
_NEXT_ATTEMPTS = 5


def lease_duration() -> dt.timedelta:
    return dt.timedelta(seconds=settings.MODERATION_LEASE_SECONDS)


class StaleReviewError(Exception):
    """Someone decided on the meme after the moderator opened it."""

    def __init__(self, latest: LabelCorrection):
        super().__init__(f"meme {latest.meme_id} changed by correction {latest.pk}")
        self.latest = latest


class LeaseHeldError(Exception):
    """Another moderator holds a live lease on the meme."""

    def __init__(self, lease: ReviewLease):
        super().__init__(f"meme {lease.meme_id} is leased to {lease.moderator}")
        self.lease = lease


@transaction.atomic
def review_lease_acquire(
    *, meme: Meme, label_set: LabelSet, moderator, now: dt.datetime | None = None
) -> ReviewLease:
    """Claim (or extend) the meme for the moderator; raise LeaseHeldError if taken."""
    now = now or timezone.now()
    # One meme at a time: whatever else this moderator held in the label set is freed.
    ReviewLease.objects.filter(label_set=label_set, moderator=moderator).exclude(meme=meme).delete()
    ReviewLease.objects.filter(meme=meme, label_set=label_set, expires_at__lte=now).delete()
    expires_at = now + lease_duration()
    lease = ReviewLease.objects.select_for_update().filter(meme=meme, label_set=label_set).first()
    if lease is None:
        try:
            with transaction.atomic():
                return ReviewLease.objects.create(
                    meme=meme, label_set=label_set, moderator=moderator, expires_at=expires_at
                )
        except IntegrityError:
            lease = ReviewLease.objects.get(meme=meme, label_set=label_set)
    if lease.moderator_id != moderator.pk:
        raise LeaseHeldError(lease)
    lease.expires_at = expires_at
    lease.save(update_fields=["expires_at"])
    return lease


def review_lease_release(*, meme: Meme, label_set: LabelSet, moderator) -> None:
    ReviewLease.objects.filter(meme=meme, label_set=label_set, moderator=moderator).delete()


def review_lease_next(
    *,
    label_set: LabelSet,
    moderator,
    filters: QueueFilters | None = None,
    now: dt.datetime | None = None,
) -> Meme | None:
    """Lease the first meme of the moderator's queue and return it (None: queue empty)."""
    now = now or timezone.now()
    for _ in range(_NEXT_ATTEMPTS):
        meme = queue_candidates(
            label_set=label_set, moderator=moderator, filters=filters, now=now
        ).first()
        if meme is None:
            return None
        try:
            review_lease_acquire(meme=meme, label_set=label_set, moderator=moderator, now=now)
        except LeaseHeldError:
            continue  # someone else took it between the read and the claim
        return meme
    return None


@transaction.atomic
def review_skip(*, meme: Meme, label_set: LabelSet, moderator) -> ReviewSkip:
    """Pass on a meme: free it for others and keep it out of this moderator's way."""
    review_lease_release(meme=meme, label_set=label_set, moderator=moderator)
    return ReviewSkip.objects.create(meme=meme, label_set=label_set, moderator=moderator)


def _normalise_text(text: str) -> str:
    return text.replace("\r\n", "\n").strip()


@transaction.atomic
def correction_create(
    *,
    meme: Meme,
    label_set: LabelSet,
    moderator,
    new_label: str = "",
    unusable: bool = False,
    new_text: str | None = None,
    seen_correction_id: int | None = None,
    seen_text_correction_id: int | None = None,
    check_stale: bool = True,
    source: str = LabelCorrection.Source.MODERATOR,
) -> LabelCorrection:
    """Record one human decision about a meme for a label set.

    ``seen_correction_id`` (and ``seen_text_correction_id`` when the text is
    edited) name the latest decision the moderator saw, ``None`` for none. If a
    newer one exists the decision is refused with StaleReviewError, so a second
    moderator working from an old page is told instead of silently overruling
    the first. The text is stored only when it differs from the current one.
    """
    # Serialise decisions on one meme (a no-op on SQLite, which locks the file).
    Meme.objects.select_for_update().filter(pk=meme.pk).first()
    if not unusable and new_label not in label_set.classes:
        raise ValidationError(f"{new_label!r} is not a class of {label_set.name}.")
    latest = meme_latest_correction(meme=meme, label_set=label_set)
    if check_stale and latest is not None and latest.pk != seen_correction_id:
        raise StaleReviewError(latest)
    old_text = meme_current_text(meme=meme)
    if new_text is not None and _normalise_text(new_text) == _normalise_text(old_text):
        new_text = None
    if new_text is not None and check_stale:
        latest_text = meme_latest_text_correction(meme=meme)
        if latest_text is not None and latest_text.pk != seen_text_correction_id:
            raise StaleReviewError(latest_text)
    prediction = meme_latest_prediction(meme=meme, label_set=label_set)
    predicted_label = prediction.label if prediction else ""
    if latest is not None and not latest.is_reset:
        old_label = "" if latest.unusable else latest.new_label
    else:
        old_label = predicted_label
    correction = LabelCorrection.objects.create(
        meme=meme,
        label_set=label_set,
        old_label=old_label,
        new_label="" if unusable else new_label,
        predicted_label=predicted_label,
        unusable=unusable,
        old_text="" if new_text is None else old_text,
        new_text="" if new_text is None else _normalise_text(new_text),
        text_changed=new_text is not None,
        moderator=moderator,
        source=source,
        model_version=prediction.model_version if prediction else None,
    )
    if moderator is not None:
        review_lease_release(meme=meme, label_set=label_set, moderator=moderator)
    _second_review_track(correction)
    webhook_event_emit(
        type="meme.labelled",
        meme_id=meme.pk,
        details={
            "label_set": label_set.name,
            "label": correction.new_label or None,
            "unusable": correction.unusable,
            "previous_label": correction.old_label or None,
            "text_changed": correction.text_changed,
            "source": correction.source,
            "correction_id": correction.pk,
            "moderator": getattr(moderator, "username", None),
        },
    )
    return correction


def _second_review_track(correction: LabelCorrection) -> None:
    """Open a second review for a drawn meme, or close one with this second opinion.

    A second opinion is an ordinary decision by another moderator on a page that carried
    the first decision's id, so the stale check lets it through; it stands as the meme's
    latest label like any later decision.
    """
    if correction.moderator_id is None or correction.source not in RATING_SOURCES:
        return
    meme, label_set = correction.meme, correction.label_set
    review = SecondReview.objects.filter(meme=meme, label_set=label_set).first()
    if review is None:
        if second_review_drawn(meme=meme, label_set=label_set):
            SecondReview.objects.create(meme=meme, label_set=label_set, first=correction)
        return
    if review.second_id is None and correction.moderator_id != review.first.moderator_id:
        review.second = correction
        review.completed_at = timezone.now()
        review.save(update_fields=["second", "completed_at"])


BULK_CONFIRM = "confirm"
BULK_RELABEL = "relabel"


@dataclass
class BulkResult:
    created: list[LabelCorrection] = field(default_factory=list)
    # (meme, why it was left alone)
    skipped: list[tuple[Meme, str]] = field(default_factory=list)


@transaction.atomic
def corrections_bulk_create(
    *,
    meme_ids: list[int],
    label_set: LabelSet,
    moderator,
    action: str,
    new_label: str = "",
    now: dt.datetime | None = None,
) -> BulkResult:
    """Confirm the predicted label of, or relabel, many undecided memes at once.

    One correction row per meme. Memes that got a human decision since the
    list was shown, that another moderator is reviewing, or that have nothing
    to confirm are skipped and reported rather than overwritten.
    """
    if action not in (BULK_CONFIRM, BULK_RELABEL):
        raise ValidationError(f"Unknown bulk action {action!r}.")
    if action == BULK_RELABEL and new_label not in label_set.classes:
        raise ValidationError(f"{new_label!r} is not a class of {label_set.name}.")
    result = BulkResult()
    for meme in Meme.objects.filter(pk__in=meme_ids).order_by("pk"):
        lease = meme_lease(meme=meme, label_set=label_set, now=now)
        if lease is not None and lease.moderator_id != moderator.pk:
            result.skipped.append((meme, f"being reviewed by {lease.moderator}"))
            continue
        if meme_human_decision(meme=meme, label_set=label_set) is not None:
            result.skipped.append((meme, "already has a human label"))
            continue
        label = new_label
        if action == BULK_CONFIRM:
            prediction = meme_latest_prediction(meme=meme, label_set=label_set)
            if prediction is None:
                result.skipped.append((meme, "has no prediction to confirm"))
                continue
            if prediction.label not in label_set.classes:
                result.skipped.append((meme, f"predicted {prediction.label!r}, not a class"))
                continue
            label = prediction.label
        result.created.append(
            correction_create(
                meme=meme,
                label_set=label_set,
                moderator=moderator,
                new_label=label,
                source=LabelCorrection.Source.BULK,
            )
        )
    return result


@transaction.atomic
def corrections_cluster_apply(
    *, correction: LabelCorrection, moderator, now: dt.datetime | None = None
) -> BulkResult:
    """Give every other meme of the decided meme's repost cluster the same decision.

    One correction row per meme (source bulk), written by correction_create. Memes that
    already have a human label, or that another moderator is reviewing, are skipped and
    reported rather than overwritten.
    """
    label_set = correction.label_set
    result = BulkResult()
    others = [pk for pk in cluster_meme_ids(meme=correction.meme) if pk != correction.meme_id]
    for meme in Meme.objects.filter(pk__in=others).order_by("pk"):
        lease = meme_lease(meme=meme, label_set=label_set, now=now)
        if lease is not None and lease.moderator_id != moderator.pk:
            result.skipped.append((meme, f"being reviewed by {lease.moderator}"))
            continue
        if meme_human_decision(meme=meme, label_set=label_set) is not None:
            result.skipped.append((meme, "already has a human label"))
            continue
        result.created.append(
            correction_create(
                meme=meme,
                label_set=label_set,
                moderator=moderator,
                new_label=correction.new_label,
                unusable=correction.unusable,
                source=LabelCorrection.Source.BULK,
            )
        )
    return result


@transaction.atomic
def review_decide(
    *,
    meme: Meme,
    label_set: LabelSet,
    moderator,
    new_label: str = "",
    unusable: bool = False,
    new_text: str | None = None,
    seen_correction_id: int | None = None,
    seen_text_correction_id: int | None = None,
    apply_to_cluster: bool = False,
) -> tuple[LabelCorrection, BulkResult | None]:
    """Record a review page decision, and with `apply_to_cluster` copy it to the reposts.

    The decision is checked for staleness against `seen_*` (see correction_create).
    """
    correction = correction_create(
        meme=meme,
        label_set=label_set,
        moderator=moderator,
        new_label=new_label,
        unusable=unusable,
        new_text=new_text,
        seen_correction_id=seen_correction_id,
        seen_text_correction_id=seen_text_correction_id,
    )
    if not apply_to_cluster:
        return correction, None
    return correction, corrections_cluster_apply(correction=correction, moderator=moderator)


class UndoRefusedError(Exception):
    """An undo or reopen that would overwrite someone else's work, or has nothing to undo."""


@transaction.atomic
def correction_undo(*, correction: LabelCorrection, moderator) -> LabelCorrection:
    """Take back one of the moderator's own decisions with a row of its own.

    The new row (source ``undo``, ``undoes`` = the decision) puts the meme back as it was
    before the decision: its previous human label, or none (then it is back in the
    queue), and its previous text when the decision had changed it. Nothing is deleted
    from the audit trail. Only the latest decision about the meme can be undone, so an
    undo never silently reverts what another moderator decided afterwards.
    """
    meme, label_set = correction.meme, correction.label_set
    Meme.objects.select_for_update().filter(pk=meme.pk).first()
    if correction.moderator_id != moderator.pk:
        raise UndoRefusedError("Only the moderator who made a decision can undo it.")
    if correction.source in (LabelCorrection.Source.UNDO, LabelCorrection.Source.REOPEN):
        raise UndoRefusedError("An undo cannot itself be undone; decide the meme again.")
    if LabelCorrection.objects.filter(undoes=correction).exists():
        raise UndoRefusedError(f"That decision on meme {meme.pk} was already undone.")
    latest = meme_latest_correction(meme=meme, label_set=label_set)
    if latest is None or latest.pk != correction.pk:
        who = latest.moderator if latest and latest.moderator else "someone"
        raise UndoRefusedError(
            f"Meme {meme.pk} was decided again since (by {who}); open it to change it."
        )
    before = (
        LabelCorrection.objects.filter(meme=meme, label_set=label_set, id__lt=correction.pk)
        .order_by("-id")
        .first()
    )
    if before is None or before.is_reset:
        label, unusable = "", False
    else:
        label, unusable = before.new_label, before.unusable
    text_back = correction.text_changed and meme_latest_text_correction(meme=meme) == correction
    undo = LabelCorrection.objects.create(
        meme=meme,
        label_set=label_set,
        old_label="" if correction.unusable else correction.new_label,
        new_label=label,
        unusable=unusable,
        predicted_label=correction.predicted_label,
        old_text=correction.new_text if text_back else "",
        new_text=correction.old_text if text_back else "",
        text_changed=text_back,
        moderator=moderator,
        source=LabelCorrection.Source.UNDO,
        model_version=correction.model_version,
        undoes=correction,
    )
    # A second review this decision opened is withdrawn; one it answered is open again.
    SecondReview.objects.filter(first=correction, second__isnull=True).delete()
    SecondReview.objects.filter(second=correction).update(second=None, completed_at=None)
    return undo


@transaction.atomic
def correction_reopen(*, meme: Meme, label_set: LabelSet, moderator) -> LabelCorrection:
    """Send a decided meme back to the queue, recorded as its own row (source ``reopen``)."""
    Meme.objects.select_for_update().filter(pk=meme.pk).first()
    decision = meme_human_decision(meme=meme, label_set=label_set)
    if decision is None:
        raise UndoRefusedError(f"Meme {meme.pk} has no human decision to reopen.")
    prediction = meme_latest_prediction(meme=meme, label_set=label_set)
    return LabelCorrection.objects.create(
        meme=meme,
        label_set=label_set,
        old_label="" if decision.unusable else decision.new_label,
        new_label="",
        predicted_label=prediction.label if prediction else "",
        moderator=moderator,
        source=LabelCorrection.Source.REOPEN,
        model_version=prediction.model_version if prediction else None,
    )


# --- Moderator accounts ----------------------------------------------------------------------

MODERATORS_GROUP = "moderators"  # created by migrations/0002_moderators_group.py
LOCAL_SITE_URL = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class ModeratorAdded:
    user: object
    created: bool  # a new account (it has no password until the link is used)
    promoted: bool  # False when the user was a moderator already


@transaction.atomic
def moderator_add(*, username: str, email: str = "") -> ModeratorAdded:
    """Make `username` a moderator, creating the account when there is none.

    A new account gets no usable password: the one who runs this hands over the
    set-password link (password_setup_link), so no password is ever printed or sent.
    """
    users = get_user_model()
    user = users.objects.filter(username=username).first()
    created = user is None
    if created:
        user = users(username=username, email=email)
        user.set_unusable_password()
        user.full_clean(exclude=["password"])
        user.save()
    elif email and user.email != email:
        user.email = email
        user.save(update_fields=["email"])
    group = Group.objects.get(name=MODERATORS_GROUP)
    promoted = not user.groups.filter(pk=group.pk).exists()
    if promoted:
        user.groups.add(group)
    return ModeratorAdded(user=user, created=created, promoted=promoted)


def password_setup_link(*, user) -> str:
    """A link that lets `user` choose a password once (Django's password reset token).

    It stops working when the password is set, and after PASSWORD_RESET_TIMEOUT.
    """
    path = reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return f"{settings.SITE_URL or LOCAL_SITE_URL}{path}"
