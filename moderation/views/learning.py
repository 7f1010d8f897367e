"""Start a retrain from the dashboard."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from moderation.learning.retrain import retrain_enqueue
from moderation.models import RetrainRun
from moderation.views.common import label_set_from_request, moderator_required


@require_POST
@moderator_required
def retrain_start(request: HttpRequest) -> HttpResponseRedirect:
    label_set = label_set_from_request(request)
    busy = RetrainRun.objects.filter(
        label_set=label_set, status__in=[RetrainRun.Status.QUEUED, RetrainRun.Status.RUNNING]
    ).first()
    if busy is not None:
        messages.warning(request, f"A retrain of {label_set.name} is already {busy.status}.")
    else:
        run = retrain_enqueue(label_set=label_set, triggered_by=request.user)
        messages.success(
            request, f"Retrain #{run.pk} of {label_set.name} queued on the slow worker."
        )
    return HttpResponseRedirect(
        f"{reverse('moderation:dashboard')}?label_set={label_set.name}#retraining"
    )
