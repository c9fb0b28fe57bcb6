from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView

from core import views as core_views

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
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
