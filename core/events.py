"""Typed domain events: how an app tells others that something happened without importing them.

An app registers a frozen dataclass under a stable name and publishes instances of it; the apps
above it subscribe handlers in their `AppConfig.ready()`. `publish` writes the event to the
outbox (`core.models.OutboxEvent`) in the caller's transaction, so an event exists if and only
if the change it reports committed: a rolled-back change publishes nothing, and a process that
dies right after its commit loses nothing.

Two paths dispatch a row, and each claims it first so they never run one event at the same
time: right after the commit, the publishing process (the fast path); and the relay, a beat
task, for what a crash or a failing handler left undispatched. A handler can still see an event
twice (a process dying after its handlers ran but before the row was marked), so every handler
is idempotent: a unique key or a status in the database turns the second call into nothing.

Payloads hold ids, codes and levels only, never personal data: the rows outlive the people
they are about (until the retention sweep), and the relay's logs name them. `register` refuses
an event with any other kind of field.
"""

import dataclasses
import datetime
import logging
import re
import types
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Union, get_args, get_origin, get_type_hints

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from core.models import OutboxEvent

logger = logging.getLogger(__name__)

_handlers: dict[type, list[Callable[[Any], None]]] = defaultdict(list)
_types: dict[str, type] = {}
_names: dict[type, str] = {}

# What a payload's field may be called: the id of a row, a code (ISO country or region,
# safety check) or a level. Anything else could be, or later become, personal data.
SAFE_FIELD_NAME = re.compile(r".+_(id|code|level)")
SAFE_SCALARS = (str, int, bool)
# Events one relay run dispatches, and dispatched rows one run deletes.
RELAY_BATCH = 100
PRUNE_BATCH = 1000
# The longest a failing event waits between two attempts.
RETRY_MAX_SECONDS = 3600


# --- registry and payloads -------------------------------------------------------------------


def _check_field(owner: type, name: str, hint: Any) -> None:
    """A field must be a scalar named like an id, code or level, or nest payloads that are."""
    origin, arguments = get_origin(hint), get_args(hint)
    if origin in (Union, types.UnionType):
        for argument in arguments:
            if argument is not type(None):
                _check_field(owner, name, argument)
    elif origin is tuple and len(arguments) == 2 and arguments[1] is Ellipsis:
        _check_field(owner, name, arguments[0])
    elif dataclasses.is_dataclass(hint) and isinstance(hint, type):
        _check_payload(hint)
    elif hint in SAFE_SCALARS and SAFE_FIELD_NAME.fullmatch(name):
        pass
    else:
        raise TypeError(
            f"{owner.__qualname__}.{name}: an event holds ids, codes and levels only "
            f"(str, int or bool fields named *_id, *_code or *_level, or nested events)."
        )


def _check_payload(event_type: type) -> None:
    if not (dataclasses.is_dataclass(event_type) and event_type.__dataclass_params__.frozen):  # type: ignore[attr-defined]
        raise TypeError(f"{event_type.__qualname__}: an event is a frozen dataclass.")
    hints = get_type_hints(event_type)
    for field in dataclasses.fields(event_type):
        _check_field(event_type, field.name, hints[field.name])


def register[EventT](name: str) -> Callable[[type[EventT]], type[EventT]]:
    """Class decorator: publish the event under `name`, which the outbox stores, so renaming
    or moving the class never strands rows written before."""

    def decorator(event_type: type[EventT]) -> type[EventT]:
        _check_payload(event_type)
        if _types.setdefault(name, event_type) is not event_type:
            raise ValueError(f"Two events are registered as {name!r}.")
        _names[event_type] = name
        return event_type

    return decorator


def _decode(hint: Any, value: Any) -> Any:
    origin, arguments = get_origin(hint), get_args(hint)
    if origin in (Union, types.UnionType):
        if value is None:
            return None
        (inner,) = [argument for argument in arguments if argument is not type(None)]
        return _decode(inner, value)
    if origin is tuple:
        return tuple(_decode(arguments[0], item) for item in value)
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        hints = get_type_hints(hint)
        # A field added since the row was written takes its default; one without a default
        # is missing, and the constructor says so.
        return hint(
            **{
                f.name: _decode(hints[f.name], value[f.name])
                for f in dataclasses.fields(hint)
                if f.name in value
            }
        )
    return value


def encode(event: object) -> tuple[str, dict[str, Any]]:
    """The event's registered name and its JSON payload."""
    name = _names.get(type(event))
    if name is None:
        raise TypeError(f"{type(event).__qualname__} is not a registered event.")
    return name, dataclasses.asdict(event)  # type: ignore[call-overload]


def decode(name: str, payload: dict[str, Any]) -> object:
    """The event `encode` gave this name and payload."""
    return _decode(_types[name], payload)


# --- subscribing, publishing -----------------------------------------------------------------


def subscribe[EventT](event_type: type[EventT], handler: Callable[[EventT], None]) -> None:
    if handler not in _handlers[event_type]:
        _handlers[event_type].append(handler)


def unsubscribe[EventT](event_type: type[EventT], handler: Callable[[EventT], None]) -> None:
    if handler in _handlers[event_type]:
        _handlers[event_type].remove(handler)


def dispatch(event: object) -> None:
    """Call every handler of the event now, outside the outbox. Prefer `publish`."""
    for handler in list(_handlers[type(event)]):
        handler(event)


def publish(event: object) -> None:
    """Write the event to the outbox in the current transaction (one INSERT), and dispatch it
    once that transaction commits (at once outside one)."""
    name, payload = encode(event)
    now = timezone.now()
    row = OutboxEvent.objects.create(
        name=name,
        payload=payload,
        created_at=now,
        # Until then the relay leaves the row to the fast path.
        next_attempt_at=now + datetime.timedelta(seconds=settings.EVENT_RELAY_GRACE_SECONDS),
    )
    row_id = row.pk
    # Robust: a failure after the commit must not turn the committed change into an error for
    # its caller; the row stays undispatched and the relay takes it.
    transaction.on_commit(lambda: _dispatch_fresh(row_id), robust=True)


# --- dispatching rows ------------------------------------------------------------------------


def _lease_end(now: datetime.datetime) -> datetime.datetime:
    return now + datetime.timedelta(seconds=settings.EVENT_LEASE_SECONDS)


def _dispatch_fresh(row_id: int) -> None:
    """The fast path: claim the row unless the relay already has (attempts is then above 0)."""
    now = timezone.now()
    claimed = OutboxEvent.objects.filter(id=row_id, dispatched_at__isnull=True, attempts=0).update(
        attempts=1, next_attempt_at=_lease_end(now)
    )
    if claimed:
        _dispatch_row(row_id=row_id, attempt=1, now=now)


def _dispatch_row(*, row_id: int, attempt: int, now: datetime.datetime) -> bool:
    """Run the handlers of a claimed row; mark it dispatched, or due again after a backoff
    when one failed (the others still run: they are idempotent and independent)."""
    row = OutboxEvent.objects.only("name", "payload").get(id=row_id)
    failures = []
    try:
        event = decode(row.name, row.payload)
    except (KeyError, TypeError, ValueError) as error:
        failures.append(f"decode: {type(error).__name__}")
        event = None
    for handler in list(_handlers[type(event)]) if event is not None else []:
        try:
            handler(event)
        except Exception as error:  # noqa: BLE001 - any failure leaves the row for the relay
            failures.append(f"{handler.__module__}.{handler.__qualname__}: {type(error).__name__}")
    if not failures:
        OutboxEvent.objects.filter(id=row_id).update(dispatched_at=now, last_error="")
        return True
    delay = min(settings.EVENT_RELAY_SECONDS * 2 ** (attempt - 1), RETRY_MAX_SECONDS)
    OutboxEvent.objects.filter(id=row_id).update(
        next_attempt_at=now + datetime.timedelta(seconds=delay),
        last_error="; ".join(failures)[:300],
    )
    # Names and ids only: an exception's message may quote the data it choked on.
    logger.error(
        "event %s #%s: attempt %d failed (%s); next in %d s",
        row.name,
        row_id,
        attempt,
        "; ".join(failures),
        delay,
    )
    return False


@dataclass(frozen=True)
class RelayResult:
    dispatched: int = 0
    failed: int = 0
    pruned: int = 0


def events_relay(*, now: datetime.datetime | None = None) -> RelayResult:
    """Dispatch a batch of due events: never dispatched after their grace (their process died
    after the commit), or failed and due for a retry, or claimed by a process that died
    holding them. Claimed in one short transaction (FOR UPDATE SKIP LOCKED on PostgreSQL; on
    SQLite a writing transaction is alone anyway), so two relays never share a row. Then
    deletes a batch of dispatched rows past the retention."""
    now = now or timezone.now()
    due = Q(dispatched_at__isnull=True, next_attempt_at__lte=now)
    with transaction.atomic():
        claimed = list(
            OutboxEvent.objects.select_for_update(skip_locked=True)
            .filter(due)
            .order_by("next_attempt_at")
            .values_list("id", "attempts")[:RELAY_BATCH]
        )
        OutboxEvent.objects.filter(due, id__in=[row_id for row_id, _ in claimed]).update(
            attempts=F("attempts") + 1, next_attempt_at=_lease_end(now)
        )
    dispatched = sum(
        _dispatch_row(row_id=row_id, attempt=attempts + 1, now=now) for row_id, attempts in claimed
    )
    expired = OutboxEvent.objects.filter(
        dispatched_at__lt=now - datetime.timedelta(days=settings.EVENT_RETENTION_DAYS)
    ).values("id")[:PRUNE_BATCH]
    pruned, _ = OutboxEvent.objects.filter(id__in=expired).delete()
    return RelayResult(dispatched=dispatched, failed=len(claimed) - dispatched, pruned=pruned)
