from django.urls import path

import classifier.converters  # noqa: F401 (registers the <id:...> converter used below)
from moderation.views import auto, dashboard, export, learning, queue, review

app_name = "moderation"

urlpatterns = [
    path("", dashboard.dashboard_view, name="dashboard"),
    path("queue/", queue.queue, name="queue"),
    path("queue/next/", queue.queue_next, name="queue_next"),
    path("queue/bulk/", queue.bulk, name="bulk"),
    path("review/<id:meme_id>/", review.review, name="review"),
    path("plots/confusion.png", dashboard.confusion_plot, name="confusion_plot"),
    path("plots/reliability.png", dashboard.reliability_plot, name="reliability_plot"),
    path("retrain/", learning.retrain_start, name="retrain"),
    path("auto/policy/", auto.auto_policy, name="auto_policy"),
    path("auto/revert/<id:meme_id>/", auto.auto_revert, name="auto_revert"),
    path("export.csv", export.export_csv, name="export_csv"),
    path("export.jsonl", export.export_jsonl, name="export_jsonl"),
]
