from django.conf import settings
from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from classifier.api import urls as classifier_api
from classifier.views import meme_file
from memesense_site.accounts import account_urls
from moderation.api import urls as moderation_api


class FaviconRedirect(RedirectView):
    """Browsers ask for /favicon.ico on their own (images opened directly, old clients).

    The static URL is looked up per request: with the manifest storage it is a hashed name,
    unknown until collectstatic has run.
    """

    permanent = True

    def get_redirect_url(self, *args, **kwargs) -> str:
        return static("favicon.svg")


# Every app serves its own endpoints under the one /api/v1/ namespace (`api:`); the JSON 404
# for any other path under /api/ comes last.
api_v1 = [*classifier_api.v1, *moderation_api.v1]
api = [path("v1/", include(api_v1)), *classifier_api.docs, classifier_api.not_found]

urlpatterns = [
    path("favicon.ico", FaviconRedirect.as_view(), name="favicon"),
    path("admin/", admin.site.urls),
    path("accounts/", include(account_urls())),
    path("moderation/", include("moderation.urls")),
    path("api/", include((api, "api"))),
    path("", include("classifier.urls")),
]

if settings.SERVE_MEDIA:
    # Embedded mode: Django serves the uploaded memes itself. In production a front server
    # or the storage backend serves MEDIA_URL instead.
    prefix = settings.MEDIA_URL.lstrip("/")
    urlpatterns.append(re_path(rf"^{prefix}(?P<path>memes/.+)$", meme_file, name="meme_file"))
