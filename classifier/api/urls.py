"""Classifier's API routes: its v1/ endpoints, the schema and its docs, the JSON 404.

memesense_site/urls.py assembles them with moderation's (moderation/api/urls.py) under the
`api` namespace.
"""

from django.urls import path, re_path

import classifier.converters  # noqa: F401 (registers the <id:...> converter used below)
from classifier.api import views
from classifier.webhooks import api as webhooks

v1 = [
    path("memes/", views.MemeListCreateView.as_view(), name="meme-list"),
    path("memes/<id:meme_id>/", views.MemeDetailView.as_view(), name="meme-detail"),
    path("memes/<id:meme_id>/retry/", views.MemeRetryView.as_view(), name="meme-retry"),
    path("label-sets/", views.LabelSetListView.as_view(), name="label-set-list"),
    path("models/", views.ModelVersionListView.as_view(), name="model-list"),
    path("classify/", views.ClassifyView.as_view(), name="classify"),
    path("webhooks/", webhooks.SubscriptionListView.as_view(), name="webhook-list"),
    path(
        "webhooks/<id:subscription_id>/",
        webhooks.SubscriptionDetailView.as_view(),
        name="webhook-detail",
    ),
    path(
        "webhooks/<id:subscription_id>/ping/",
        webhooks.SubscriptionPingView.as_view(),
        name="webhook-ping",
    ),
    path(
        "webhooks/<id:subscription_id>/deliveries/",
        webhooks.DeliveryListView.as_view(),
        name="webhook-deliveries",
    ),
    path(
        "webhooks/<id:subscription_id>/deliveries/<id:delivery_id>/redeliver/",
        webhooks.RedeliverView.as_view(),
        name="webhook-redeliver",
    ),
]

# The schema and its docs; memesense_site/urls.py mounts them beside every app's v1 routes,
# followed by `not_found`.
docs = [
    path("schema/", views.SchemaView.as_view(), name="schema"),
    path("docs/", views.SwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", views.RedocView.as_view(url_name="api:schema"), name="redoc"),
]

# [\s\S], not `.`: a path with a newline in it must answer the JSON 404 too.
not_found = re_path(r"^[\s\S]*$", views.NotFoundView.as_view(), name="not-found")
