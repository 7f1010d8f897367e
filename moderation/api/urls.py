"""Moderation's routes under /api/v1/, assembled with classifier's in memesense_site/urls.py."""

from django.urls import path

import classifier.converters  # noqa: F401 (registers the <id:...> converter used below)
from moderation.api import views

v1 = [
    path(
        "memes/<id:meme_id>/corrections/",
        views.MemeCorrectionView.as_view(),
        name="meme-corrections",
    ),
    path(
        "label-sets/<slug:name>/rollback/",
        views.LabelSetRollbackView.as_view(),
        name="label-set-rollback",
    ),
    path("agreement/", views.AgreementView.as_view(), name="agreement"),
    path(
        "models/<id:model_version_id>/promote/",
        views.ModelVersionPromoteView.as_view(),
        name="model-promote",
    ),
]
