from django.urls import path

from moderation import views

app_name = "moderation"

urlpatterns = [
    path("", views.dashboard_view, name="dashboard"),
    path("queue/", views.queue, name="queue"),
    path("queue/next/", views.queue_next, name="queue_next"),
    path("queue/bulk/", views.bulk, name="bulk"),
    path("review/<int:meme_id>/", views.review, name="review"),
    path("plots/confusion.png", views.confusion_plot, name="confusion_plot"),
    path("plots/reliability.png", views.reliability_plot, name="reliability_plot"),
    path("export.csv", views.export_csv, name="export_csv"),
    path("export.jsonl", views.export_jsonl, name="export_jsonl"),
]
