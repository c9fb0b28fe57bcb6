"""Typed domain events: how an app tells others that something happened without importing them.

An app publishes a frozen dataclass; the apps above it subscribe a handler in their
`AppConfig.ready()`. Handlers run after the publishing transaction commits, so they never see
(or enqueue work for) data that was rolled back, and should only enqueue tasks.
"""

import logging
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from django.db import transaction

logger = logging.getLogger(__name__)

_handlers: dict[type, list[Callable[[Any], None]]] = defaultdict(list)


def subscribe[EventT](event_type: type[EventT], handler: Callable[[EventT], None]) -> None:
    if handler not in _handlers[event_type]:
        _handlers[event_type].append(handler)


def unsubscribe[EventT](event_type: type[EventT], handler: Callable[[EventT], None]) -> None:
    if handler in _handlers[event_type]:
        _handlers[event_type].remove(handler)


def dispatch(event: object) -> None:
    """Call every handler of the event now. Prefer `publish`, which waits for the commit."""
    for handler in list(_handlers[type(event)]):
        handler(event)


def publish(event: object) -> None:
    """Dispatch the event once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: dispatch(event), robust=False)
