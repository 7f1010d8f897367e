"""Label sets in the UI: list and create them, import labelled memes, see their versions."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from classifier.models import LabelSet
from classifier.selectors import label_set_list, model_version_active
from moderation.forms import DatasetImportForm, LabelSetForm
from moderation.learning.label_sets import dataset_import_enqueue, label_set_create
from moderation.models import DatasetImport
from moderation.selectors import dashboard
from moderation.selectors.memes import human_labels
from moderation.selectors.queue import queue_size
from moderation.views.common import moderator_required


def _label_set_rows() -> list[dict]:
    return [
        {
            "label_set": ls,
            "active": model_version_active(label_set=ls),
            "labels": human_labels(label_set=ls).count(),
            "waiting": queue_size(label_set=ls),
        }
        for ls in label_set_list()
    ]


@require_http_methods(["GET", "POST"])
@moderator_required
def label_sets(request: HttpRequest) -> HttpResponse:
    form = LabelSetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            label_set = label_set_create(**form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                f"Label set {label_set.name} created. Import labelled memes or label some in "
                "the queue, then retrain it to get its first model.",
            )
            return HttpResponseRedirect(reverse("moderation:label_set", args=[label_set.name]))
    status = 400 if request.method == "POST" else 200
    context = {
        "rows": _label_set_rows(),
        "form": form,
        "label_set": label_set_list().first(),
        "label_sets": label_set_list(),
    }
    return render(request, "moderation/label_sets.html", context, status=status)


def _detail_context(label_set: LabelSet, import_form: DatasetImportForm) -> dict:
    imports = list(
        DatasetImport.objects.filter(label_set=label_set).select_related("created_by")[:10]
    )
    runs = dashboard.retrain_runs(label_set=label_set)
    busy = any(i.status in ("queued", "running") for i in imports) or any(
        r.status in ("queued", "running") for r in runs
    )
    return {
        "label_set": label_set,
        "label_sets": label_set_list(),
        "versions": dashboard.model_versions(label_set=label_set),
        "labels": human_labels(label_set=label_set).count(),
        "waiting": queue_size(label_set=label_set),
        "imports": imports,
        "retrain_runs": runs,
        "import_form": import_form,
        "busy": busy,
    }


@require_http_methods(["GET"])
@moderator_required
def label_set_detail(request: HttpRequest, name: str) -> HttpResponse:
    label_set = get_object_or_404(LabelSet, name=name)
    context = _detail_context(label_set, DatasetImportForm())
    return render(request, "moderation/label_set.html", context)


@require_POST
@moderator_required
def label_set_import(request: HttpRequest, name: str) -> HttpResponse:
    label_set = get_object_or_404(LabelSet, name=name)
    form = DatasetImportForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        try:
            row = dataset_import_enqueue(
                label_set=label_set,
                csv_file=data["csv_file"],
                zip_file=data["images"],
                label_column=data["label_column"],
                text_column=data["text_column"],
                image_column=data["image_column"],
                label_map=data["label_map"],
                created_by=request.user,
            )
        except ValidationError as error:
            form.add_error("images", error)
        else:
            messages.success(
                request,
                f"Import #{row.pk} queued on the slow worker; this page shows its progress.",
            )
            url = reverse("moderation:label_set", args=[label_set.name])
            return HttpResponseRedirect(f"{url}#imports")
    context = _detail_context(label_set, form)
    return render(request, "moderation/label_set.html", context, status=400)
