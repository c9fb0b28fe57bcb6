"""The texts citizens send us that are not one of notifications' own keywords (STOP, START,
INFO: `receipts`), routed to the app that answers them.

The apps above register a reply handler in their `AppConfig.ready()`: a name, a priority
(lower is asked first), a predicate saying whether the text is theirs, read from the words
alone, and the handler that acts on it. Each message is claimed once, in the transaction
its one handler acts in: the first handler by priority whose predicate takes the text gets
it, and no other. A catch-all (the safety checks' clarification) registers last, so it only
speaks when no other app's word matched."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction

from notifications.receipts import inbound_message_claim, sms_keyword
from registrations.selectors import citizen_ids_by_phone

# Priorities of the apps' handlers, lowest asked first: words of their own before the
# catch-all.
PRIORITY_WORDS = 10
PRIORITY_CATCH_ALL = 1000


@dataclass(frozen=True)
class InboundText:
    """A claimed text, as handlers read it."""

    message_id: uuid.UUID
    body: str
    # The text as keywords are compared (`sms_keyword`), in words: ("ACCEPT", "3F9A1C").
    words: tuple[str, ...]
    # The citizen the message names (the first with that verified number when it came in).
    citizen_id: uuid.UUID | None
    # Everyone with the sender's verified number now (a couple sharing a phone), oldest first;
    # the named citizen alone if the number has since changed hands.
    citizen_ids: tuple[uuid.UUID, ...]


@dataclass(frozen=True)
class ReplyHandler:
    name: str
    priority: int
    # Whether the text is this handler's; words only, no query: a router asks every handler.
    claims: Callable[[InboundText], bool]
    # Acts on a text it claimed, in the transaction that claimed it; returns what it did.
    handle: Callable[[InboundText], str]


_handlers: dict[str, ReplyHandler] = {}


def reply_handler_register(handler: ReplyHandler) -> None:
    """Register (or, under the same name, replace) a handler: `ready()` may run twice."""
    _handlers[handler.name] = handler


def reply_handler_unregister(name: str) -> None:
    _handlers.pop(name, None)


def reply_handlers() -> list[ReplyHandler]:
    return sorted(_handlers.values(), key=lambda handler: (handler.priority, handler.name))


def inbound_route(*, message_id: str) -> str:
    """Hand the text to the first handler that claims it, in the transaction that marks it
    handled: relayed twice or routed twice at once, a message is acted on once. Returns
    "<handler>:<what it did>", or why nothing was."""
    with transaction.atomic():
        message = inbound_message_claim(message_id=message_id)
        if message is None:
            return "unknown_or_handled"
        citizen_ids = citizen_ids_by_phone(phone=message.sender) or (
            [message.citizen_id] if message.citizen_id else []
        )
        text = InboundText(
            message_id=message.id,
            body=message.body,
            words=tuple(sms_keyword(message.body).split()),
            citizen_id=message.citizen_id,
            citizen_ids=tuple(citizen_ids),
        )
        for handler in reply_handlers():
            if handler.claims(text):
                return f"{handler.name}:{handler.handle(text)}"
    return "unclaimed"
