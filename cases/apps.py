from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = _("Safety checks and cases")

    def ready(self) -> None:
        from cases import handlers, selectors
        from cases.demo import seed_safety_check
        from cases.panels import manage_panel
        from cases.services import erasure
        from core import demo, events, panels, personal_data
        from notifications.events import InboundSmsReceived

        events.subscribe(InboundSmsReceived, handlers.on_inbound_sms)
        panels.register("citizen_manage", manage_panel)
        demo.register("safety check", seed_safety_check, order=40)
        personal_data.register(
            "cases",
            models=[
                "cases.safetyresponse",
                "cases.case",
                "cases.case_household_members",
                "cases.caseevent",
            ],
            export=selectors.citizen_data_export,
            erase=erasure.citizens_personal_data_erase,
        )
