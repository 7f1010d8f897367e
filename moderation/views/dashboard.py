"""The dashboard and its plots."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from classifier.selectors import label_set_list, model_version_active
from moderation import plots
from moderation.autodecisions import auto_summary
from moderation.learning.promotion import may_promote
from moderation.learning.readiness import retrain_blocker
from moderation.selectors import agreement, dashboard
from moderation.selectors.queue import queue_sizes
from moderation.views.common import label_set_from_request, moderator_required


@require_GET
@moderator_required
def dashboard_view(request: HttpRequest) -> HttpResponse:
    label_set = label_set_from_request(request)
    pairs = dashboard.active_model_pairs(label_set=label_set)
    runs = dashboard.retrain_runs(label_set=label_set)
    return render(
        request,
        "moderation/dashboard.html",
        {
            "label_set": label_set,
            "label_sets": label_set_list(),
            "queue_sizes": queue_sizes(),
            "decisions": dashboard.decisions_per_day(),
            "agreement": dashboard.model_agreement(label_set=label_set),
            "moderator_agreement": agreement.moderator_agreement(label_set=label_set),
            "active": model_version_active(label_set=label_set),
            "confusion": dashboard.confusion_matrix(classes=label_set.classes, pairs=pairs),
            "versions": dashboard.model_versions(label_set=label_set),
            "waiting": dashboard.corrections_waiting_for_retrain(label_set=label_set),
            "disagreements": dashboard.recent_disagreements(label_set=label_set),
            "retrain_runs": runs,
            "auto": auto_summary(label_set=label_set),
            "auto_form_values": {
                "target": None
                if label_set.auto_target_precision is None
                else round(100 * label_set.auto_target_precision, 2),
                "audit": round(100 * label_set.auto_audit_rate, 2),
            },
            "retrain_in_progress": any(r.status in ("queued", "running") for r in runs),
            "retrain_blocker": retrain_blocker(label_set=label_set),
            "may_promote": may_promote(request.user),
        },
    )


def _theme(request: HttpRequest) -> str | None:
    """The plot's colours: ?theme=dark for the dark page (<picture> in the template)."""
    theme = request.GET.get("theme") or "light"
    return theme if theme in plots.THEMES else None


def _unknown_theme() -> HttpResponse:
    names = " or ".join(plots.THEMES)
    return HttpResponse(
        f"Unknown theme; use {names}.", status=400, content_type="text/plain; charset=utf-8"
    )


def _png_response(png: bytes) -> HttpResponse:
    response = HttpResponse(png, content_type="image/png")
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@moderator_required
def confusion_plot(request: HttpRequest) -> HttpResponse:
    label_set = label_set_from_request(request)
    theme = _theme(request)
    if theme is None:
        return _unknown_theme()
    pairs = dashboard.active_model_pairs(label_set=label_set)
    confusion = dashboard.confusion_matrix(classes=label_set.classes, pairs=pairs)
    return _png_response(plots.confusion_png(confusion, title=label_set.name, theme=theme))


@require_GET
@moderator_required
def reliability_plot(request: HttpRequest) -> HttpResponse:
    label_set = label_set_from_request(request)
    theme = _theme(request)
    if theme is None:
        return _unknown_theme()
    reliability = dashboard.reliability(pairs=dashboard.active_model_pairs(label_set=label_set))
    return _png_response(plots.reliability_png(reliability, title=label_set.name, theme=theme))
