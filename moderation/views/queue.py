"""The queue page, serving the next meme, and bulk actions."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from classifier.models import Meme
from classifier.selectors import label_set_get, label_set_list, memes_with_prediction
from moderation.forms import BulkForm, QueueFilterForm
from moderation.selectors.queue import (
    queue_counts,
    queue_memes,
    queue_reasons,
)
from moderation.services import corrections_bulk_create
from moderation.views.common import (
    filter_form,
    label_set_from_request,
    moderator_required,
    queue_url,
    serve_next,
)

QUEUE_PAGE_SIZE = 50
_FILTER_NAMES = [name for name in QueueFilterForm.base_fields if name != "order"]


@require_GET
@moderator_required
def queue(request: HttpRequest) -> HttpResponse:
    label_set = label_set_from_request(request)
    form = filter_form(label_set, request.GET)
    filters = form.filters()
    memes = queue_memes(label_set=label_set, filters=filters, moderator=request.user)
    page = Paginator(memes, QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    for meme in page:
        meme.reasons = queue_reasons(meme=meme, label_set=label_set)
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
            "counts": queue_counts(label_set=label_set, moderator=request.user),
            "filtered": any(getattr(filters, name) not in ("", None) for name in _FILTER_NAMES),
            "bulk_actions": BulkForm.ACTION_CHOICES,
        },
    )


@require_POST
@moderator_required
def queue_next(request: HttpRequest) -> HttpResponse:
    label_set = label_set_get(name=request.POST.get("label_set"))
    if label_set is None:
        raise Http404("No such label set.")
    return serve_next(request, label_set, request.POST.get("q", ""))


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
        return HttpResponseRedirect(queue_url(label_set, q))
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
                "queue_url": queue_url(label_set, q),
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
    return HttpResponseRedirect(queue_url(label_set, q))
