"""Events notifications publishes (through core.events) for the apps above it."""

from dataclasses import dataclass

from core import events


@events.register("notifications.inbound_sms_received")
@dataclass(frozen=True)
class InboundSmsReceived:
    """A citizen texted us something other than a keyword of ours (STOP, START, INFO): a SAFE
    or HELP reply, say. Notifications routes it to the reply handlers the apps above register
    (`inbound.py`)."""

    message_id: str  # str(uuid) of the InboundMessage
    citizen_id: str | None  # the registered citizen with that verified number, if one


@events.register("notifications.sms_keyword_received")
@dataclass(frozen=True)
class SmsKeywordReceived:
    """A registered citizen texted a keyword that we answer by text message: an opt-out or an
    opt-in that changed something (confirmed), or INFO."""

    message_id: str  # str(uuid) of the InboundMessage
    keyword_code: str  # receipts.Keyword: opt_out | opt_in | info
