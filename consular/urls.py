from django.contrib import admin
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import RedirectView
from django.views.i18n import set_language
from drf_spectacular.views import SpectacularAPIView

from core import views as core_views

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    # Without a CSRF token, so that the language switch every page carries holds no secret and
    # public pages can be cached and compressed (core.public_cache). A forged request can only
    # change the reader's language, to one they may change back.
    path("i18n/setlang/", csrf_exempt(set_language), name="set_language"),
    path("api/v1/", include("consular.api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", core_views.ApiDocsView.as_view(url_name="api-schema"), name="api-docs"),
    path("admin/", admin.site.urls),
    path("", include("registrations.urls")),
    path("alerts/", include("notifications.urls")),
    path("outbox/", RedirectView.as_view(pattern_name="notifications:outbox")),
    path("advisories/", include("advisories.urls")),
    path("staff/advisories/", include("advisories.staff_urls")),
    path("staff/", include("console.urls")),
    path("", include("cases.urls")),
    path("", include("peers.urls")),
    path("", include("departures.urls")),
    path("", core_views.home, name="home"),
]

# JSON under /api/, the site's error pages elsewhere.
handler400 = "core.api.bad_request"
handler404 = "core.api.page_not_found"
handler500 = "core.api.server_error"
