"""Moderation pages. Each view parses input, calls a selector or service, renders."""

import contextlib
import csv
import json
from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    QueryDict,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from classifier.models import LabelSet, Meme
from moderation import plots
from moderation.forms import BulkForm, DecisionForm, QueueFilterForm
from moderation.selectors import dashboard
from moderation.selectors.export import EXPORT_FIELDS, human_label_rows
from moderation.selectors.memes import (
    meme_current_text,
    meme_history,
    meme_latest_correction,
    meme_latest_prediction,
    meme_latest_text_correction,
    meme_lease,
)
from moderation.selectors.queue import (
    label_set_get,
    label_set_list,
    memes_with_prediction,
    queue_candidates,
    queue_leased_count,
    queue_memes,
    queue_sizes,
)
from moderation.services import (
    LeaseHeldError,
    StaleReviewError,
    correction_create,
    corrections_bulk_create,
    review_lease_acquire,
    review_lease_next,
    review_skip,
)

QUEUE_PAGE_SIZE = 50
PERMISSION = "moderation.moderate"


def moderator_required(view):
    """Login first (anonymous users are sent to log in), then the permission (403)."""
    checked = login_required(permission_required(PERMISSION, raise_exception=True)(view))
    return wraps(view)(checked)


def _label_set(request: HttpRequest) -> LabelSet:
    label_set = label_set_get(name=request.GET.get("label_set"))
    if label_set is None:
        raise Http404("No such label set.")
    return label_set


def _filter_form(label_set: LabelSet, data) -> QueueFilterForm:
    return QueueFilterForm(
        data,
        label_set=label_set,
        statuses=Meme.Status.choices,
        versions=dashboard.model_versions(label_set=label_set),
    )


def _review_url(meme_id: int, label_set: LabelSet, q: str) -> str:
    query = urlencode({"label_set": label_set.name, "q": q})
    return f"{reverse('moderation:review', args=[meme_id])}?{query}"


def _queue_url(label_set: LabelSet, q: str) -> str:
    query = QueryDict(q, mutable=True)
    query["label_set"] = label_set.name
    return f"{reverse('moderation:queue')}?{query.urlencode()}"


def _next(request: HttpRequest, label_set: LabelSet, q: str) -> HttpResponseRedirect:
    """Lease the next meme of the queue the moderator came from and open it."""
    filters = _filter_form(label_set, QueryDict(q)).filters()
    meme = review_lease_next(label_set=label_set, moderator=request.user, filters=filters)
    if meme is None:
        messages.info(request, f"The {label_set.name} queue is empty for now.")
        return HttpResponseRedirect(_queue_url(label_set, q))
    return HttpResponseRedirect(_review_url(meme.pk, label_set, q))


@require_GET
@moderator_required
def queue(request: HttpRequest) -> HttpResponse:
    label_set = _label_set(request)
    form = _filter_form(label_set, request.GET)
    memes = queue_memes(label_set=label_set, filters=form.filters(), moderator=request.user)
    page = Paginator(memes, QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("label_set", None)
    return render(
        request,
        "moderation/queue.html",
        {
            "label_set": label_set,
            "label_sets": label_set_list(),
            "form": form,
            "page": page,
            "q": query.urlencode(),
            "leased_count": queue_leased_count(label_set=label_set, moderator=request.user),
            "bulk_actions": BulkForm.ACTION_CHOICES,
        },
    )


@require_POST
@moderator_required
def queue_next(request: HttpRequest) -> HttpResponse:
    label_set = label_set_get(name=request.POST.get("label_set"))
    if label_set is None:
        raise Http404("No such label set.")
    return _next(request, label_set, request.POST.get("q", ""))


def _review_context(request, meme, label_set, form, q, *, stale=None) -> dict:
    # The meme most likely served next, so the browser can fetch its image now.
    upcoming = (
        queue_candidates(
            label_set=label_set,
            moderator=request.user,
            filters=_filter_form(label_set, QueryDict(q)).filters(),
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
    return {
        "meme": meme,
        "label_set": label_set,
        "prediction": prediction,
        "probabilities": probabilities,
        "current": current,
        "current_text": meme_current_text(meme=meme),
        "history": meme_history(meme=meme),
        "lease": lease,
        "leased_by_other": lease is not None and lease.moderator_id != request.user.pk,
        "form": form,
        "stale": stale,
        "q": q,
        "queue_url": _queue_url(label_set, q),
        "classes": list(enumerate(label_set.classes, start=1)),
        "upcoming": upcoming,
    }


def _initial_decision(meme, label_set, q) -> dict:
    current = meme_latest_correction(meme=meme, label_set=label_set)
    prediction = meme_latest_prediction(meme=meme, label_set=label_set)
    label = ""
    if current is not None and not current.unusable:
        label = current.new_label
    elif prediction is not None and prediction.label in label_set.classes:
        label = prediction.label
    text_correction = meme_latest_text_correction(meme=meme)
    return {
        "action": DecisionForm.ACTION_CONFIRM,
        "label": label,
        "text": meme_current_text(meme=meme),
        "seen_correction": current.pk if current else 0,
        "seen_text_correction": text_correction.pk if text_correction else 0,
        "q": q,
    }


@require_http_methods(["GET", "POST"])
@moderator_required
def review(request: HttpRequest, meme_id: int) -> HttpResponse:
    label_set = _label_set(request)
    meme = get_object_or_404(Meme.objects.select_related("uploader"), pk=meme_id)
    if request.method == "GET":
        q = request.GET.get("q", "")
        # If another moderator holds it, the page says so; a decision still goes
        # through the stale check.
        with contextlib.suppress(LeaseHeldError):
            review_lease_acquire(meme=meme, label_set=label_set, moderator=request.user)
        form = DecisionForm(initial=_initial_decision(meme, label_set, q), label_set=label_set)
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
        return _next(request, label_set, q)
    try:
        correction = correction_create(
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
    return _next(request, label_set, q)


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
def bulk(request: HttpRequest) -> HttpResponse:
    label_set = label_set_get(name=request.POST.get("label_set"))
    if label_set is None:
        raise Http404("No such label set.")
    form = BulkForm(request.POST, label_set=label_set)
    q = request.POST.get("q", "")
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return HttpResponseRedirect(_queue_url(label_set, q))
    data = form.cleaned_data
    if not data["confirmed"]:
        memes = memes_with_prediction(
            label_set=label_set, queryset=Meme.objects.filter(pk__in=data["memes"])
        ).order_by("pk")
        return render(
            request,
            "moderation/bulk_confirm.html",
            {
                "label_set": label_set,
                "form": form,
                "memes": memes,
                "action": data["action"],
                "action_name": dict(BulkForm.ACTION_CHOICES)[data["action"]],
                "label": data["label"],
                "q": q,
                "queue_url": _queue_url(label_set, q),
            },
        )
    result = corrections_bulk_create(
        meme_ids=data["memes"],
        label_set=label_set,
        moderator=request.user,
        action=data["action"],
        new_label=data["label"],
    )
    messages.success(request, f"{len(result.created)} memes labelled.")
    for meme, reason in result.skipped:
        messages.warning(request, f"Meme {meme.pk} left alone: {reason}.")
    return HttpResponseRedirect(_queue_url(label_set, q))


@require_GET
@moderator_required
def dashboard_view(request: HttpRequest) -> HttpResponse:
    label_set = _label_set(request)
    pairs = dashboard.active_model_pairs(label_set=label_set)
    return render(
        request,
        "moderation/dashboard.html",
        {
            "label_set": label_set,
            "label_sets": label_set_list(),
            "queue_sizes": queue_sizes(),
            "decisions": dashboard.decisions_per_day(),
            "agreement": dashboard.model_agreement(label_set=label_set),
            "active": dashboard.active_model_version(label_set=label_set),
            "confusion": dashboard.confusion_matrix(classes=label_set.classes, pairs=pairs),
            "versions": dashboard.model_versions(label_set=label_set),
            "waiting": dashboard.corrections_waiting_for_retrain(label_set=label_set),
            "disagreements": dashboard.recent_disagreements(label_set=label_set),
        },
    )


def _png_response(png: bytes) -> HttpResponse:
    response = HttpResponse(png, content_type="image/png")
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@moderator_required
def confusion_plot(request: HttpRequest) -> HttpResponse:
    label_set = _label_set(request)
    pairs = dashboard.active_model_pairs(label_set=label_set)
    confusion = dashboard.confusion_matrix(classes=label_set.classes, pairs=pairs)
    return _png_response(plots.confusion_png(confusion, title=label_set.name))


@require_GET
@moderator_required
def reliability_plot(request: HttpRequest) -> HttpResponse:
    label_set = _label_set(request)
    reliability = dashboard.reliability(pairs=dashboard.active_model_pairs(label_set=label_set))
    return _png_response(plots.reliability_png(reliability, title=label_set.name))


def _export_label_sets(request: HttpRequest) -> list[LabelSet]:
    """One label set when asked for by name, else all of them."""
    name = request.GET.get("label_set")
    if not name:
        return list(label_set_list())
    label_set = label_set_get(name=name)
    if label_set is None:
        raise Http404("No such label set.")
    return [label_set]


class _Echo:
    """A file-like object whose write returns the line, for streaming csv."""

    def write(self, value: str) -> str:
        return value


@require_GET
@moderator_required
def export_csv(request: HttpRequest) -> StreamingHttpResponse:
    rows = human_label_rows(label_sets=_export_label_sets(request))
    writer = csv.DictWriter(_Echo(), fieldnames=EXPORT_FIELDS)
    lines = (writer.writerow(row) for row in rows)
    header = writer.writerow(dict(zip(EXPORT_FIELDS, EXPORT_FIELDS, strict=True)))
    response = StreamingHttpResponse(_chain(header, lines), content_type="text/csv")
    response["Content-Disposition"] = 'attachment; filename="human-labels.csv"'
    return response


@require_GET
@moderator_required
def export_jsonl(request: HttpRequest) -> StreamingHttpResponse:
    rows = human_label_rows(label_sets=_export_label_sets(request))
    lines = (json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    response = StreamingHttpResponse(lines, content_type="application/x-ndjson")
    response["Content-Disposition"] = 'attachment; filename="human-labels.jsonl"'
    return response


def _chain(first: str, rest):
    yield first
    yield from rest
