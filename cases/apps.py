from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = _("Safety checks and cases")

    def ready(self) -> None:
        from cases import selectors
        from cases.demo import seed_safety_check
        from cases.panels import manage_panel
        from cases.services import erasure, safety_checks
        from core import demo, panels, personal_data
        from notifications import inbound

        # Asked last: SAFE and HELP, and the clarification, only when no other app's word
        # (a departure's ACCEPT, say) took the text.
        inbound.reply_handler_register(
            inbound.ReplyHandler(
                name="safety_checks",
                priority=inbound.PRIORITY_CATCH_ALL,
                claims=lambda text: True,
                handle=lambda text: safety_checks.sms_reply_answer(text=text),
            )
        )
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
