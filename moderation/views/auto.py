"""Automatic decisions: set the policy (dashboard) and revert one (review page)."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.decorators.http import require_POST

from classifier.autodecisions.services import auto_decision_revert
from classifier.models import AutoDecision, Meme
from moderation.autodecisions import auto_policy_update
from moderation.forms import AutoPolicyForm
from moderation.views.common import label_set_from_request, moderator_required


@require_POST
@moderator_required
def auto_policy(request: HttpRequest) -> HttpResponseRedirect:
    label_set = label_set_from_request(request)
    form = AutoPolicyForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    else:
        label_set = auto_policy_update(
            label_set=label_set,
            target_precision=form.cleaned_data["target_precision"],
            audit_rate=form.cleaned_data["audit_rate"],
        )
        if label_set.auto_target_precision is None:
            messages.success(request, f"Automatic decisions are off for {label_set.name}.")
        elif label_set.auto_threshold is None:
            messages.warning(
                request,
                "Not enough human-checked predictions yet to reach that precision: "
                "no automatic decisions until there are.",
            )
        else:
            messages.success(
                request,
                f"Predictions above {label_set.auto_threshold:.3f} confidence are now decided "
                "automatically.",
            )
    url = reverse("moderation:dashboard")
    return HttpResponseRedirect(f"{url}?label_set={label_set.name}#auto-decisions")


@require_POST
@moderator_required
def auto_revert(request: HttpRequest, meme_id: int) -> HttpResponseRedirect:
    label_set = label_set_from_request(request)
    get_object_or_404(Meme, pk=meme_id)
    decision = AutoDecision.objects.filter(
        prediction__meme_id=meme_id, prediction__label_set=label_set, reverted_at__isnull=True
    ).first()
    if decision is None:
        messages.info(request, "This meme has no standing automatic decision to revert.")
    else:
        auto_decision_revert(decision=decision, moderator=request.user)
        messages.success(request, "Automatic decision reverted: the meme is back in the queue.")
    url = reverse("moderation:review", args=[meme_id])
    return HttpResponseRedirect(f"{url}?label_set={label_set.name}")
