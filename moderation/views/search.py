"""Search across every meme, decided or not, for moderators."""

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from classifier.selectors import label_set_list
from moderation.forms import SearchForm
from moderation.selectors.search import memes_search
from moderation.views.common import label_set_from_request, moderator_required

SEARCH_PAGE_SIZE = 50


@require_GET
@moderator_required
def search(request: HttpRequest) -> HttpResponse:
    label_set = label_set_from_request(request)
    form = SearchForm(request.GET or None, label_set=label_set)
    query = form.query()
    page = None
    if not query.is_empty:
        results = memes_search(label_set=label_set, query=query)
        page = Paginator(results, SEARCH_PAGE_SIZE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "moderation/search.html",
        {
            "label_set": label_set,
            "label_sets": label_set_list(),
            "form": form,
            "page": page,
            "params": params.urlencode(),
        },
    )
