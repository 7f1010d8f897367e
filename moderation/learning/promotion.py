"""Promote a model version, or roll back to the previous one: the one way, for every door.

The dashboard, the admin action, the API and the `promote`/`rollback` commands all call
these two services, so each promotion gets the same guarantees: the permission
(classifier.promote_modelversion), the model folder's manifest checked, a version the
promotion gate did not approve promoted only when the person confirms it, and the
automatic-decision threshold refreshed for the new version. It lives in moderation because
the threshold refresh reads moderators' labels; classifier never imports moderation.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser

from classifier import ml_bridge
from classifier.models import PROMOTE_PERMISSION, LabelSet, ModelVersion
from classifier.selectors import model_version_active
from classifier.services import model_version_activate
from moderation.autodecisions import auto_threshold_refresh


class PromotionError(Exception):
    """The version cannot be made active; the message says why."""


class PromotionForbidden(PromotionError):
    """The person lacks the promote permission."""


class PromotionNeedsConfirmation(PromotionError):
    """The gate did not approve the version: the person must confirm, having read why."""

    def __init__(self, model_version: ModelVersion, warning: str):
        super().__init__(warning)
        self.model_version, self.warning = model_version, warning


def may_promote(user: AbstractBaseUser | None) -> bool:
    """Whether `user` may promote and roll back (None: an operator at the server's shell)."""
    return user is None or user.has_perm(PROMOTE_PERMISSION)


def gate_warning(*, model_version: ModelVersion) -> str | None:
    """Why the promotion gate did not approve `model_version`, or None when it did.

    Versions from before the gate (no metrics["gate"], e.g. the shipped sentiment-v1) are
    not gate-approved for this warning only: they stay promotable, with a confirmation.
    """
    gate = (model_version.metrics or {}).get("gate")
    if isinstance(gate, dict) and gate.get("approved") is True:
        return None
    if not isinstance(gate, dict):
        why = "it has no gate result (it was trained or registered before the gate existed)"
    else:
        why = str(gate.get("reason") or "the gate did not approve it")
    return f"{model_version.version} was not approved by the promotion gate: {why}."


def model_version_promote(
    *, model_version: ModelVersion, user: AbstractBaseUser | None, confirmed: bool = False
) -> ModelVersion:
    """Make `model_version` the active version of its label set, with every check.

    `user` None means an operator at the server's shell (the commands without --as).
    Raises PromotionForbidden, PromotionError (a damaged folder) or, unless `confirmed`,
    PromotionNeedsConfirmation for a version the gate did not approve.
    """
    import ml

    if not may_promote(user):
        raise PromotionForbidden(
            f"Promoting and rolling back model versions needs the permission {PROMOTE_PERMISSION}."
        )
    try:
        ml.registry.read_manifest(ml_bridge.resolve_artifact_path(model_version.artifact_path))
    except ml.ModelError as exc:
        raise PromotionError(f"{model_version.version} cannot be promoted: {exc}") from exc
    warning = gate_warning(model_version=model_version)
    if warning is not None and not confirmed:
        raise PromotionNeedsConfirmation(model_version, warning)
    model_version = model_version_activate(model_version=model_version)
    # An automatic-decision threshold holds for the version it was derived for only.
    auto_threshold_refresh(label_set=model_version.label_set)
    return model_version


def rollback_target(*, label_set: LabelSet) -> ModelVersion:
    """The version that was active before the current one (PromotionError when none)."""
    current = model_version_active(label_set=label_set)
    previous = (
        ModelVersion.objects.filter(
            label_set=label_set, is_active=False, activated_at__isnull=False
        )
        .order_by("-activated_at")
        .first()
    )
    if previous is None:
        raise PromotionError(f"{label_set.name} has no earlier active version to roll back to")
    if (
        current is not None
        and current.activated_at
        and previous.activated_at > current.activated_at
    ):
        raise PromotionError("version history is inconsistent: the previous version is newer")
    return previous


def model_version_rollback(
    *, label_set: LabelSet, user: AbstractBaseUser | None, confirmed: bool = False
) -> ModelVersion:
    """Re-activate the version that was active before the current one, with the same checks."""
    if not may_promote(user):
        raise PromotionForbidden(
            f"Promoting and rolling back model versions needs the permission {PROMOTE_PERMISSION}."
        )
    return model_version_promote(
        model_version=rollback_target(label_set=label_set), user=user, confirmed=confirmed
    )
