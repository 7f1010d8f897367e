"""The review page: one meme, one decision, then the next meme."""

import contextlib

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_http_methods, require_POST

from classifier.autodecisions.selectors import auto_decision_for
from classifier.models import Meme
from classifier.reposts import selectors as reposts
from classifier.selectors import label_set_list
from moderation.forms import DecisionForm
from moderation.models import LabelCorrection
from moderation.selectors import reposts as repost_labels
from moderation.selectors.agreement import meme_second_review_for
from moderation.selectors.memes import (
    meme_current_text,
    meme_history,
    meme_human_decision,
    meme_latest_correction,
    meme_latest_prediction,
    meme_latest_text_correction,
    meme_lease,
)
from moderation.selectors.queue import queue_candidates, queue_size
from moderation.services import (
    LeaseHeldError,
    StaleReviewError,
    UndoRefusedError,
    correction_reopen,
    correction_undo,
    review_decide,
    review_lease_acquire,
    review_skip,
)
from moderation.views.common import (
    filter_form,
    label_set_from_request,
    moderator_required,
    queue_url,
    review_url,
    serve_next,
)

# The moderator's review session lives in the Django session: how many decisions they made
# and which one an undo (Backspace) would take back.
SESSION_COUNT = "review_count"
SESSION_LAST = "review_last_decision"


def _session_record(request: HttpRequest, correction: LabelCorrection, q: str) -> None:
    request.session[SESSION_COUNT] = request.session.get(SESSION_COUNT, 0) + 1
    request.session[SESSION_LAST] = {"id": correction.pk, "q": q}


def _last_decision(request: HttpRequest) -> LabelCorrection | None:
    """The moderator's last decision, while it is still the one standing (undoable)."""
    last = request.session.get(SESSION_LAST)
    if not last:
        return None
    correction = (
        LabelCorrection.objects.filter(pk=last["id"], moderator=request.user, undone_by=None)
        .select_related("meme", "label_set")
        .first()
    )
    if correction is None:
        return None
    latest = meme_latest_correction(meme=correction.meme, label_set=correction.label_set)
    return correction if latest is not None and latest.pk == correction.pk else None


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
    current = meme_human_decision(meme=meme, label_set=label_set)
    probabilities = []
    if prediction is not None:
        probabilities = [
            (cls, float(prediction.probabilities.get(cls, 0.0))) for cls in label_set.classes
        ]
    lease = meme_lease(meme=meme, label_set=label_set)
    second_review = meme_second_review_for(meme=meme, label_set=label_set, moderator=request.user)
    suggestion = repost_labels.meme_label_suggestion(meme=meme, label_set=label_set)
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
        "label_sets": label_set_list(),
        "session_count": request.session.get(SESSION_COUNT, 0),
        "waiting": queue_size(label_set=label_set),
        "last_decision": _last_decision(request),
        "preselected_by_model": form.initial.get("preselected_by_model", False),
        "below_threshold": prediction is not None
        and prediction.confidence < label_set.review_threshold,
    }


def _initial_decision(meme, label_set, q, moderator) -> dict:
    # The form always carries the latest decision's id, even on a blind second opinion:
    # the stale check then lets the second opinion through, and still stops a third
    # decision made while the page was open.
    latest = meme_latest_correction(meme=meme, label_set=label_set)
    current = meme_human_decision(meme=meme, label_set=label_set)
    prediction = meme_latest_prediction(meme=meme, label_set=label_set)
    suggestion = repost_labels.meme_label_suggestion(meme=meme, label_set=label_set)
    if meme_second_review_for(meme=meme, label_set=label_set, moderator=moderator):
        current = suggestion = None  # a blind second opinion starts from the model alone
    label = ""
    by_model = False
    if current is not None and not current.unusable:
        label = current.new_label
    elif current is None and suggestion is not None:
        label = suggestion.label  # what moderators gave the reposts of this picture
    elif (
        prediction is not None
        and prediction.label in label_set.classes
        and prediction.confidence >= label_set.review_threshold
    ):
        # Below the threshold nothing is preselected: Enter alone must not agree with
        # a model that is unsure.
        label = prediction.label
        by_model = True
    text_correction = meme_latest_text_correction(meme=meme)
    return {
        "action": DecisionForm.ACTION_CONFIRM,
        "label": label,
        "text": meme_current_text(meme=meme),
        "seen_correction": latest.pk if latest else 0,
        "seen_text_correction": text_correction.pk if text_correction else 0,
        "q": q,
        "preselected_by_model": by_model,
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
    _session_record(request, correction, q)
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


@require_POST
@moderator_required
def undo(request: HttpRequest) -> HttpResponse:
    """Take back the moderator's last decision and open that meme again."""
    correction = _last_decision(request)
    if correction is None:
        messages.info(request, "There is no decision of yours to undo.")
        label_set = label_set_from_request(request)
        return HttpResponseRedirect(queue_url(label_set, request.POST.get("q", "")))
    q = request.session[SESSION_LAST].get("q", "")
    try:
        correction_undo(correction=correction, moderator=request.user)
    except UndoRefusedError as error:
        messages.warning(request, str(error))
        return HttpResponseRedirect(queue_url(correction.label_set, q))
    request.session[SESSION_COUNT] = max(0, request.session.get(SESSION_COUNT, 1) - 1)
    request.session.pop(SESSION_LAST, None)
    messages.success(
        request, f"Undone: meme {correction.meme_id} is as it was before; decide again."
    )
    return HttpResponseRedirect(review_url(correction.meme_id, correction.label_set, q))


@require_POST
@moderator_required
def reopen(request: HttpRequest, meme_id: int) -> HttpResponse:
    """Send a decided meme back to the queue (from search or the review page)."""
    label_set = label_set_from_request(request)
    meme = get_object_or_404(Meme, pk=meme_id)
    try:
        correction_reopen(meme=meme, label_set=label_set, moderator=request.user)
    except UndoRefusedError as error:
        messages.warning(request, str(error))
    else:
        messages.success(request, f"Meme {meme.pk} is back in the {label_set.name} queue.")
    return HttpResponseRedirect(review_url(meme.pk, label_set, ""))
