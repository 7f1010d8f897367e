"""One moderator's page: decisions per day, agreement with the others, pace."""

from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from classifier.selectors import label_set_list
from moderation.selectors import moderators
from moderation.views.common import label_set_from_request, moderator_required


@require_GET
@moderator_required
def moderator_page(request: HttpRequest, username: str) -> HttpResponse:
    label_set = label_set_from_request(request)
    person = get_object_or_404(get_user_model(), username=username)
    days = moderators.moderator_decisions_per_day(moderator=person)
    return render(
        request,
        "moderation/moderator.html",
        {
            "label_set": label_set,
            "label_sets": label_set_list(),
            "person": person,
            "days": days,
            "day_max": max((n for _, n in days), default=0),
            "total": moderators.moderator_decisions(moderator=person).count(),
            "pace": moderators.moderator_pace(moderator=person),
            "pairs": moderators.moderator_pairs(moderator=person, label_set=label_set),
        },
    )
