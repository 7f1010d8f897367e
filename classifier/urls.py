from django.urls import path

import classifier.converters  # noqa: F401 (registers the <id:...> converter used below)
from classifier import views

app_name = "classifier"

urlpatterns = [
    path("", views.upload, name="home"),
    path("upload/", views.upload, name="upload"),
    path("memes/<id:meme_id>/", views.meme_detail, name="meme_detail"),
    path("memes/<id:meme_id>/retry/", views.meme_retry, name="meme_retry"),
]
