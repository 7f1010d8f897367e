from django.conf import settings
from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from classifier.views import meme_file
from memesense_site.accounts import account_urls


class FaviconRedirect(RedirectView):
    """Browsers ask for /favicon.ico on their own (images opened directly, old clients).

    The static URL is looked up per request: with the manifest storage it is a hashed name,
    unknown until collectstatic has run.
    """

    permanent = True

    def get_redirect_url(self, *args, **kwargs) -> str:
        return static("favicon.svg")


urlpatterns = [
    path("favicon.ico", FaviconRedirect.as_view(), name="favicon"),
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
