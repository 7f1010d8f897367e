from django.urls import path

from classifier import views

app_name = "classifier"

urlpatterns = [
    path("", views.upload, name="home"),
    path("upload/", views.upload, name="upload"),
    path("memes/<int:meme_id>/", views.meme_detail, name="meme_detail"),
    path("memes/<int:meme_id>/retry/", views.meme_retry, name="meme_retry"),
]
