from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path

from classifier.views import meme_file
from memesense_site.accounts import account_urls

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include(account_urls())),
    path("moderation/", include("moderation.urls")),
    path("api/", include("classifier.api.urls")),
    path("", include("classifier.urls")),
]

if settings.SERVE_MEDIA:
    # Embedded mode: Django serves the uploaded memes itself. In production a front server
    # or the storage backend serves MEDIA_URL instead.
    prefix = settings.MEDIA_URL.lstrip("/")
    urlpatterns.append(re_path(rf"^{prefix}(?P<path>memes/.+)$", meme_file, name="meme_file"))
