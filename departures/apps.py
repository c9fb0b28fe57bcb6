from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeparturesConfig(AppConfig):
    name = "departures"
    verbose_name = _("Assisted departure")

    def ready(self) -> None:
        from core import panels, personal_data
        from departures import erasure, selectors
        from departures.panels import manage_panel
        from departures.services import replies
        from notifications import inbound

        panels.register("citizen_manage", manage_panel)
        # LEAVE, ACCEPT, DECLINE: asked before the safety checks' catch-all.
        inbound.reply_handler_register(
            inbound.ReplyHandler(
                name="departures",
                priority=inbound.PRIORITY_WORDS,
                claims=replies.reply_claims,
                handle=lambda text: replies.sms_reply_act(text=text),
            )
        )

        personal_data.register(
            "departures",
            models=[
                "departures.intent",
                "departures.traveller",
                "departures.offer",
                "departures.boarding",
            ],
            export=selectors.citizen_departure_export,
            erase=erasure.citizens_departure_erase,
        )
