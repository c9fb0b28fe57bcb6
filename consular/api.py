"""The one DRF router: every app's API is registered here, under /api/v1/."""

from anymail import urls as anymail_urls
from django.conf import settings
from django.urls import URLPattern, URLResolver, include, path
from rest_framework.routers import DefaultRouter

from advisories.api import AdvisoryCountryViewSet, AdvisoryViewSet
from cases.api import CaseViewSet, SafetyCheckViewSet
from departures.api import IntentViewSet, OperationViewSet, OptionViewSet
from departures.api import me_urlpatterns as departure_me_urlpatterns
from notifications.api import AlertViewSet
from notifications.webhooks import SmsInboundWebhook, SmsStatusWebhook
from registrations.api import RegistrationViewSet, me_urlpatterns

router = DefaultRouter()
# Countries with their advisory levels: regions cannot know about advisories.
router.register("countries", AdvisoryCountryViewSet, basename="country")
router.register("advisories", AdvisoryViewSet, basename="advisory")
router.register("registrations", RegistrationViewSet, basename="registration")
router.register("alerts", AlertViewSet, basename="alert")
router.register("safety-checks", SafetyCheckViewSet, basename="safety-check")
router.register("cases", CaseViewSet, basename="case")
router.register("departures/operations", OperationViewSet, basename="departure-operation")
router.register("departures/options", OptionViewSet, basename="departure-option")
router.register("departures/intents", IntentViewSet, basename="departure-intent")

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


def email_tracking_routes(*, email_backend: str, webhook_secret: str) -> list[URLPattern]:
    """django-anymail's tracking webhook for the email provider in use, and no other: the site
    receives no email, a provider we do not send through has nothing to report, and without
    WEBHOOK_SECRET anymail would accept anyone's events (a forged bounce would silence a
    citizen's alerts). SMTP and the development outbox have no receipts at all."""
    prefix = "anymail.backends."
    if not webhook_secret or not email_backend.startswith(prefix):
        return []
    provider = email_backend.removeprefix(prefix).split(".")[0]
    return [p for p in anymail_urls.urlpatterns if p.name == f"{provider}_tracking_webhook"]


_email_tracking = email_tracking_routes(
    email_backend=str(settings.MAILERS["default"]["BACKEND"]),
    webhook_secret=settings.ANYMAIL.get("WEBHOOK_SECRET", ""),
)
if _email_tracking:
    webhook_urlpatterns.append(path("webhooks/email/", include(_email_tracking)))

urlpatterns = [
    *router.urls,
    *me_urlpatterns,
    *departure_me_urlpatterns,
    *webhook_urlpatterns,
]
