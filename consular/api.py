"""The one DRF router: every app's API is registered here, under /api/v1/."""

from anymail import urls as anymail_urls
from django.conf import settings
from django.urls import URLPattern, URLResolver, include, path
from rest_framework.routers import DefaultRouter

from advisories.api import AdvisoryCountryViewSet, AdvisoryViewSet
from cases.api import CaseViewSet, SafetyCheckViewSet
from notifications.api import AlertViewSet, SmsInboundWebhook, SmsStatusWebhook
from registrations.api import RegistrationViewSet, me_urlpatterns

router = DefaultRouter()
# Countries with their advisory levels: regions cannot know about advisories.
router.register("countries", AdvisoryCountryViewSet, basename="country")
router.register("advisories", AdvisoryViewSet, basename="advisory")
router.register("registrations", RegistrationViewSet, basename="registration")
router.register("alerts", AlertViewSet, basename="alert")
router.register("safety-checks", SafetyCheckViewSet, basename="safety-check")
router.register("cases", CaseViewSet, basename="case")

webhook_urlpatterns: list[URLPattern | URLResolver] = [
    path(
        "webhooks/sms/<str:provider>/status",
        SmsStatusWebhook.as_view(),
        name="webhook-sms-status",
    ),
    path(
        "webhooks/sms/<str:provider>/inbound",
        SmsInboundWebhook.as_view(),
        name="webhook-sms-inbound",
    ),
]

# django-anymail's email receipts: its tracking webhooks only (the site receives no email), and
# only with ANYMAIL_WEBHOOK_SECRET set, since without it anymail accepts anyone's events (a
# forged bounce would silence a citizen's alerts).
if settings.ANYMAIL.get("WEBHOOK_SECRET"):
    webhook_urlpatterns.append(
        path(
            "webhooks/email/",
            include(
                [p for p in anymail_urls.urlpatterns if str(p.name).endswith("tracking_webhook")]
            ),
        )
    )

urlpatterns = [*router.urls, *me_urlpatterns, *webhook_urlpatterns]
