"""What every moderation view shares: the permission check, label set and queue URLs."""

from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpRequest, HttpResponseRedirect, QueryDict
from django.urls import reverse

from classifier.models import LabelSet, Meme
from classifier.selectors import label_set_get
from moderation.forms import QueueFilterForm
from moderation.selectors import dashboard
from moderation.services import review_lease_next

PERMISSION = "moderation.moderate"


def moderator_required(view):
    """Login first (anonymous users are sent to log in), then the permission (403)."""
    checked = login_required(permission_required(PERMISSION, raise_exception=True)(view))
    return wraps(view)(checked)


def label_set_from_request(request: HttpRequest) -> LabelSet:
    label_set = label_set_get(name=request.GET.get("label_set"))
    if label_set is None:
        raise Http404("No such label set.")
    return label_set


def filter_form(label_set: LabelSet, data) -> QueueFilterForm:
    return QueueFilterForm(
        data,
        label_set=label_set,
        statuses=Meme.Status.choices,
        versions=dashboard.model_versions(label_set=label_set),
    )


def review_url(meme_id: int, label_set: LabelSet, q: str) -> str:
    query = urlencode({"label_set": label_set.name, "q": q})
    return f"{reverse('moderation:review', args=[meme_id])}?{query}"


def queue_url(label_set: LabelSet, q: str) -> str:
    query = QueryDict(q, mutable=True)
    query["label_set"] = label_set.name
    return f"{reverse('moderation:queue')}?{query.urlencode()}"


def serve_next(request: HttpRequest, label_set: LabelSet, q: str) -> HttpResponseRedirect:
    """Lease the next meme of the queue the moderator came from and open it."""
    filters = filter_form(label_set, QueryDict(q)).filters()
    meme = review_lease_next(label_set=label_set, moderator=request.user, filters=filters)
    if meme is None:
        messages.info(request, f"The {label_set.name} queue is empty for now.")
        return HttpResponseRedirect(queue_url(label_set, q))
    return HttpResponseRedirect(review_url(meme.pk, label_set, q))
