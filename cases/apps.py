from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = _("Safety checks and cases")

    def ready(self) -> None:
        from cases import handlers
        from cases.demo import seed_safety_check
        from cases.panels import manage_panel
        from core import demo, events, panels
        from notifications.events import InboundSmsReceived

        events.subscribe(InboundSmsReceived, handlers.on_inbound_sms)
        panels.register("citizen_manage", manage_panel)
        demo.register("safety check", seed_safety_check, order=40)
