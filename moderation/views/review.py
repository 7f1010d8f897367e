"""The review page: one meme, one decision, then the next meme."""

import contextlib

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_http_methods

from classifier.models import Meme
from classifier.reposts import selectors as reposts
from moderation.autodecisions import auto_decision_for
from moderation.forms import DecisionForm
from moderation.selectors.agreement import meme_second_review_for
from moderation.selectors.memes import (
    meme_current_text,
    meme_history,
    meme_latest_correction,
    meme_latest_prediction,
    meme_latest_text_correction,
    meme_lease,
)
from moderation.selectors.queue import queue_candidates
from moderation.services import (
    LeaseHeldError,
    StaleReviewError,
    review_decide,
    review_lease_acquire,
    review_skip,
)
from moderation.views.common import (
    filter_form,
    label_set_from_request,
    moderator_required,
    queue_url,
    serve_next,
)


def _review_context(request, meme, label_set, form, q, *, stale=None) -> dict:
    # The meme most likely served next, so the browser can fetch its image now.
    upcoming = (
        queue_candidates(
            label_set=label_set,
            moderator=request.user,
            filters=filter_form(label_set, QueryDict(q)).filters(),
        )
        .exclude(pk=meme.pk)
        .first()
    )
    prediction = meme_latest_prediction(meme=meme, label_set=label_set)
    current = meme_latest_correction(meme=meme, label_set=label_set)
    probabilities = []
    if prediction is not None:
        probabilities = [
            (cls, float(prediction.probabilities.get(cls, 0.0))) for cls in label_set.classes
        ]
    lease = meme_lease(meme=meme, label_set=label_set)
    second_review = meme_second_review_for(meme=meme, label_set=label_set, moderator=request.user)
    suggestion = reposts.meme_label_suggestion(meme=meme, label_set=label_set)
    history = meme_history(meme=meme)
    if second_review is not None:
        # A blind second opinion: the first moderator's decision is not shown.
        current = suggestion = None
        history = [entry for entry in history if entry.kind != "correction"]
    return {
        "meme": meme,
        "label_set": label_set,
        "prediction": prediction,
        "auto_decision": auto_decision_for(prediction=prediction) if prediction else None,
        "probabilities": probabilities,
        "current": current,
        "current_text": meme_current_text(meme=meme),
        "history": history,
        "second_review": second_review,
        "reposts": reposts.meme_reposts(meme=meme, limit=8),
        "suggestion": suggestion,
        "lease": lease,
        "leased_by_other": lease is not None and lease.moderator_id != request.user.pk,
        "form": form,
        "stale": stale,
        "q": q,
        "queue_url": queue_url(label_set, q),
        "classes": list(enumerate(label_set.classes, start=1)),
        "upcoming": upcoming,
    }


def _initial_decision(meme, label_set, q, moderator) -> dict:
    # The form always carries the latest decision's id, even on a blind second opinion:
    # the stale check then lets the second opinion through, and still stops a third
    # decision made while the page was open.
    latest = current = meme_latest_correction(meme=meme, label_set=label_set)
    prediction = meme_latest_prediction(meme=meme, label_set=label_set)
    suggestion = reposts.meme_label_suggestion(meme=meme, label_set=label_set)
    if meme_second_review_for(meme=meme, label_set=label_set, moderator=moderator):
        current = suggestion = None  # a blind second opinion starts from the model alone
    label = ""
    if current is not None and not current.unusable:
        label = current.new_label
    elif current is None and suggestion is not None:
        label = suggestion.label  # what moderators gave the reposts of this picture
    elif prediction is not None and prediction.label in label_set.classes:
        label = prediction.label
    text_correction = meme_latest_text_correction(meme=meme)
    return {
        "action": DecisionForm.ACTION_CONFIRM,
        "label": label,
        "text": meme_current_text(meme=meme),
        "seen_correction": latest.pk if latest else 0,
        "seen_text_correction": text_correction.pk if text_correction else 0,
        "q": q,
    }


@require_http_methods(["GET", "POST"])
@moderator_required
def review(request: HttpRequest, meme_id: int) -> HttpResponse:
    label_set = label_set_from_request(request)
    meme = get_object_or_404(Meme.objects.select_related("uploader"), pk=meme_id)
    if request.method == "GET":
        q = request.GET.get("q", "")
        # If another moderator holds it, the page says so; a decision still goes
        # through the stale check.
        with contextlib.suppress(LeaseHeldError):
            review_lease_acquire(meme=meme, label_set=label_set, moderator=request.user)
        form = DecisionForm(
            initial=_initial_decision(meme, label_set, q, request.user), label_set=label_set
        )
        return render(
            request,
            "moderation/review.html",
            _review_context(request, meme, label_set, form, q),
        )

    form = DecisionForm(request.POST, label_set=label_set)
    q = request.POST.get("q", "")
    if not form.is_valid():
        context = _review_context(request, meme, label_set, form, q)
        return render(request, "moderation/review.html", context, status=400)
    data = form.cleaned_data
    if data["action"] == DecisionForm.ACTION_SKIP:
        review_skip(meme=meme, label_set=label_set, moderator=request.user)
        return serve_next(request, label_set, q)
    try:
        correction, cluster = review_decide(
            apply_to_cluster=data["apply_to_cluster"],
            meme=meme,
            label_set=label_set,
            moderator=request.user,
            new_label=data["label"],
            unusable=data["action"] == DecisionForm.ACTION_UNUSABLE,
            new_text=data["text"] if data["text_edited"] else None,
            seen_correction_id=data["seen_correction"],
            seen_text_correction_id=data["seen_text_correction"],
        )
    except StaleReviewError as error:
        return _stale_response(request, meme, label_set, form, q, error)
    except ValidationError as error:
        form.add_error(None, error)
        context = _review_context(request, meme, label_set, form, q)
        return render(request, "moderation/review.html", context, status=400)
    outcome = "unusable" if correction.unusable else correction.new_label
    messages.success(request, f"Meme {meme.pk}: {outcome}.")
    if cluster is not None:
        skipped = f", {len(cluster.skipped)} skipped (already labelled or in review)"
        messages.info(
            request,
            f"Applied to {len(cluster.created)} repost(s) of it"
            + (skipped if cluster.skipped else "")
            + ".",
        )
    return serve_next(request, label_set, q)


def _stale_response(request, meme, label_set, form, q, error) -> HttpResponse:
    """Show what changed and keep the moderator's own choice, ready to resubmit."""
    data = form.cleaned_data
    current = meme_latest_correction(meme=meme, label_set=label_set)
    text_correction = meme_latest_text_correction(meme=meme)
    refreshed = DecisionForm(
        initial={
            "action": data["action"],
            "label": data["label"],
            "text": data["text"],
            "text_edited": data["text_edited"],
            "seen_correction": current.pk if current else 0,
            "seen_text_correction": text_correction.pk if text_correction else 0,
            "q": q,
        },
        label_set=label_set,
    )
    context = _review_context(request, meme, label_set, refreshed, q, stale=error.latest)
    return render(request, "moderation/review.html", context, status=409)
