from importlib import import_module

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Alerts")

    def ready(self) -> None:
        from anymail.signals import tracking

        from advisories import review
        from advisories.events import RiskLevelChanged
        from core import events, health, personal_data
        from notifications import erasure, handlers, selectors
        from notifications.events import InboundSmsReceived, SmsKeywordReceived
        from notifications.health import channel_checks

        # Services enqueue the tasks by name (core.queue).
        import_module("notifications.tasks")
        events.subscribe(RiskLevelChanged, handlers.on_risk_level_changed)
        review.register_previewer(selectors.PublicationPreviewer())
        # A keyword is answered by an alert, a layer above the receipts that record it.
        events.subscribe(SmsKeywordReceived, handlers.on_sms_keyword)
        # Any other text goes to the reply handlers the apps above register (inbound.py).
        events.subscribe(InboundSmsReceived, handlers.on_inbound_sms)
        # anymail's documented hook for provider receipts is a Django signal.
        tracking.connect(handlers.on_email_tracking, dispatch_uid="notifications-email-tracking")
        for name, check in channel_checks().items():
            health.register(name, check)
        personal_data.register(
            "notifications",
            models=[
                "notifications.delivery",
                "notifications.suppression",
                "notifications.inboundmessage",
                "notifications.alert",
                "notifications.outboxmessage",
            ],
            export=selectors.citizen_data_export,
            erase=erasure.citizens_personal_data_erase,
        )
