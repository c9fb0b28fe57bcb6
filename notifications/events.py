"""Events notifications publishes (through core.events) for the apps above it."""

from dataclasses import dataclass

from core import events


@events.register("notifications.inbound_sms_received")
@dataclass(frozen=True)
class InboundSmsReceived:
    """A citizen texted us something other than STOP/START (a SAFE or HELP reply, say)."""

    message_id: str  # str(uuid) of the InboundMessage
    citizen_id: str | None  # the registered citizen with that verified number, if one
