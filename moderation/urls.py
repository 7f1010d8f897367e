from django.urls import path

import classifier.converters  # noqa: F401 (registers the <id:...> converter used below)
from moderation.views import (
    auto,
    dashboard,
    export,
    label_sets,
    learning,
    moderators,
    queue,
    review,
    search,
)

app_name = "moderation"

urlpatterns = [
    path("", dashboard.dashboard_view, name="dashboard"),
    path("queue/", queue.queue, name="queue"),
    path("queue/next/", queue.queue_next, name="queue_next"),
    path("queue/bulk/", queue.bulk, name="bulk"),
    path("review/<id:meme_id>/", review.review, name="review"),
    path("review/undo/", review.undo, name="undo"),
    path("review/<id:meme_id>/reopen/", review.reopen, name="reopen"),
    path("search/", search.search, name="search"),
    path("moderators/<str:username>/", moderators.moderator_page, name="moderator"),
    path("label-sets/", label_sets.label_sets, name="label_sets"),
    path("label-sets/<slug:name>/", label_sets.label_set_detail, name="label_set"),
    path("label-sets/<slug:name>/import/", label_sets.label_set_import, name="label_set_import"),
    path("plots/confusion.png", dashboard.confusion_plot, name="confusion_plot"),
    path("plots/reliability.png", dashboard.reliability_plot, name="reliability_plot"),
    path("retrain/", learning.retrain_start, name="retrain"),
    path(
        "versions/<id:model_version_id>/promote/",
        learning.version_promote,
        name="version_promote",
    ),
    path("versions/rollback/", learning.version_rollback, name="version_rollback"),
    path("auto/policy/", auto.auto_policy, name="auto_policy"),
    path("auto/revert/<id:meme_id>/", auto.auto_revert, name="auto_revert"),
    path("export.csv", export.export_csv, name="export_csv"),
    path("export.jsonl", export.export_jsonl, name="export_jsonl"),
]
