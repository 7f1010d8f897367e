from django.urls import path

from moderation.views import auto, dashboard, export, learning, queue, review

app_name = "moderation"

urlpatterns = [
    path("", dashboard.dashboard_view, name="dashboard"),
    path("queue/", queue.queue, name="queue"),
    path("queue/next/", queue.queue_next, name="queue_next"),
    path("queue/bulk/", queue.bulk, name="bulk"),
    path("review/<int:meme_id>/", review.review, name="review"),
    path("plots/confusion.png", dashboard.confusion_plot, name="confusion_plot"),
    path("plots/reliability.png", dashboard.reliability_plot, name="reliability_plot"),
    path("retrain/", learning.retrain_start, name="retrain"),
    path(
        "versions/<int:model_version_id>/promote/",
        learning.version_promote,
        name="version_promote",
    ),
    path("versions/rollback/", learning.version_rollback, name="version_rollback"),
    path("auto/policy/", auto.auto_policy, name="auto_policy"),
    path("auto/revert/<int:meme_id>/", auto.auto_revert, name="auto_revert"),
    path("export.csv", export.export_csv, name="export_csv"),
    path("export.jsonl", export.export_jsonl, name="export_jsonl"),
]
