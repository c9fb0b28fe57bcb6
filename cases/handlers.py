"""Reactions to other apps' events, subscribed in CasesConfig.ready()."""

from cases.tasks import handle_sms_reply
from notifications.events import InboundSmsReceived


def on_inbound_sms(event: InboundSmsReceived) -> None:
    handle_sms_reply.delay(event.message_id, event.citizen_id)
