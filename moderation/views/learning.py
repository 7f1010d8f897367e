"""Start a retrain, promote a version and roll back from the dashboard."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from classifier.models import ModelVersion
from moderation.learning.promotion import (
    PromotionError,
    PromotionForbidden,
    PromotionNeedsConfirmation,
    model_version_promote,
    model_version_rollback,
)
from moderation.learning.retrain import RetrainError, retrain_enqueue
from moderation.views.common import label_set_from_request, moderator_required


def _dashboard(label_set_name: str, anchor: str) -> HttpResponseRedirect:
    return HttpResponseRedirect(
        f"{reverse('moderation:dashboard')}?label_set={label_set_name}#{anchor}"
    )


@require_POST
@moderator_required
def retrain_start(request: HttpRequest) -> HttpResponseRedirect:
    label_set = label_set_from_request(request)
    try:
        run = retrain_enqueue(label_set=label_set, triggered_by=request.user)
    except RetrainError as exc:  # too few labels, or a run already open: nothing queued
        messages.warning(request, str(exc))
    else:
        messages.success(
            request, f"Retrain #{run.pk} of {label_set.name} queued on the slow worker."
        )
    return _dashboard(label_set.name, "retraining")


def _promotion_outcome(request, label_set, action, confirm_url, *, target=None):
    """Run `action(confirmed=...)`; on a gate warning, show the confirmation page instead."""
    try:
        version = action(confirmed=request.POST.get("confirmed") == "yes")
    except PromotionForbidden as exc:
        raise PermissionDenied(str(exc)) from None
    except PromotionNeedsConfirmation as exc:
        return render(
            request,
            "moderation/promote_confirm.html",
            {
                "label_set": label_set,
                "version": exc.model_version,
                "warning": exc.warning,
                "confirm_url": confirm_url,
                "rollback": target is None,
            },
            status=409,
        )
    except PromotionError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{version.version} is now the active {label_set.name} model.")
    return _dashboard(label_set.name, "versions")


@require_POST
@moderator_required
def version_promote(request: HttpRequest, model_version_id: int) -> HttpResponse:
    label_set = label_set_from_request(request)
    version = ModelVersion.objects.filter(pk=model_version_id, label_set=label_set).first()
    if version is None:
        raise Http404("No such model version.")

    def promote(*, confirmed: bool):
        return model_version_promote(model_version=version, user=request.user, confirmed=confirmed)

    return _promotion_outcome(request, label_set, promote, request.get_full_path(), target=version)


@require_POST
@moderator_required
def version_rollback(request: HttpRequest) -> HttpResponse:
    label_set = label_set_from_request(request)

    def rollback(*, confirmed: bool):
        return model_version_rollback(label_set=label_set, user=request.user, confirmed=confirmed)

    return _promotion_outcome(request, label_set, rollback, request.get_full_path())
