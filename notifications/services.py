"""Alerts and the delivery ledger.

The ledger in the database is the truth; broker messages only say "look at these rows now".
Every step is guarded by the row's status, so a redelivered task, a second fan-out or a sweep
that races a worker changes nothing that was already done."""

import datetime
import logging
import random
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Membership, User
from accounts.permissions import require_role
from advisories.events import RiskLevelChanged
from core import events, personal_data
from core.audit import Action, audit_record
from core.crypto import keyed_hashes
from core.exceptions import Conflict
from core.ratelimit import hit
from notifications.channels import BaseChannel, OutgoingMessage, Receipt, SendError, get_channel
from notifications.events import InboundSmsReceived
from notifications.messaging import Renderer, renderer_for
from notifications.models import (
    Alert,
    Channel,
    Delivery,
    InboundMessage,
    OutboxMessage,
    Suppression,
)
from notifications.recipients import ledger_rows_sql
from registrations.selectors import (
    CitizenContact,
    citizen_addresses,
    citizen_contacts,
    citizen_ids_by_phone,
)

logger = logging.getLogger(__name__)

Status = Delivery.Status
OPEN_STATUSES = (Status.PENDING, Status.SENDING)
# Rows handed to the provider between two writes to the ledger: what a crash can leave
# ambiguous.
HANDOFF_BATCH = 25
# Who cancels an alert or sends its failed rows again: the post's consular staff, whose work
# the deliveries are (editors and approvers write advisories, not to citizens).
ALERT_OPERATOR_ROLES = (Membership.Role.OFFICER, Membership.Role.ADMIN)


@dataclass(frozen=True)
class FanOutResult:
    alert_id: str
    created: int


@dataclass(frozen=True)
class SendResult:
    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0


@dataclass(frozen=True)
class SweepResult:
    requeued: int
    ambiguous: int
    alerts_resumed: int


def alert_create_for_level_change(*, event: RiskLevelChanged) -> Alert:
    """The alert of one publication; the same event twice finds the alert it created."""
    changes = [
        {"region_code": c.region_code, "old_level": c.old_level, "new_level": c.new_level}
        for c in event.changes
    ]
    with transaction.atomic():
        alert, created = Alert.objects.get_or_create(
            kind=Alert.Kind.LEVEL_CHANGE,
            advisory_id=event.advisory_id,
            defaults={
                "country_id": event.country_code,
                "changes": changes,
                "region_codes": [change["region_code"] for change in changes],
            },
        )
        if created:
            from notifications.tasks import fan_out_alert

            alert_id = str(alert.id)
            transaction.on_commit(lambda: fan_out_alert.delay(alert_id))
    return alert


# The ledger keeps no foreign key to the register (see `Delivery.citizen`); fan-outs and
# erasures meet on this lock instead. An erasure waits for the fan-outs in progress to commit
# and then unlinks their rows too; a fan-out that starts meanwhile waits, then reads the
# register as the erasure left it.
_LEDGER_LOCK_KEY = 0x636F6E73


def ledger_lock(*, exclusive: bool) -> None:
    """Hold, until the transaction ends, the lock an erasure takes alone and fan-outs share."""
    if connection.vendor != "postgresql":
        return  # SQLite runs one writing transaction at a time.
    function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(%s)", [_LEDGER_LOCK_KEY])


def alert_fan_out(*, alert_id: str) -> FanOutResult:
    """Write one pending Delivery per recipient and verified, unsuppressed channel, in one
    INSERT ... SELECT that the database runs; nothing per citizen passes through Python.

    Running it again inserts nothing (ON CONFLICT on the ledger's unique key)."""
    now = timezone.now()
    with transaction.atomic():
        # Before the alert's row lock, in the order an erasure takes them.
        ledger_lock(exclusive=False)
        alert = Alert.objects.select_for_update().filter(id=alert_id).first()
        if alert is None or alert.state != Alert.State.FANNING_OUT:
            return FanOutResult(alert_id=str(alert_id), created=0)
        rows_sql, rows_params = ledger_rows_sql(alert)
        statement = f"""
            INSERT INTO {Delivery._meta.db_table} (alert_id, citizen_id, channel, region_code,
                language, status, attempts, next_attempt_at, lease_expires_at, created_at,
                provider_id, error_code, error_reason, segments)
            SELECT %s, candidate.citizen_id, candidate.channel, candidate.region_code,
                candidate.language,
                'pending', 0, %s, %s, %s, '', '', '', 0
            FROM ({rows_sql}) AS candidate
            WHERE TRUE
            ON CONFLICT (alert_id, citizen_id, channel) DO NOTHING
        """  # noqa: S608 - table names come from model metadata, values are parameters
        if connection.vendor == "postgresql":
            # Recipients are sorted to pick each one's region: a million of them fit in memory
            # for this transaction, instead of spilling to disk under the default work_mem.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL work_mem = '256MB'")
        stamp = connection.ops.adapt_datetimefield_value(now)
        # The rows go to the queue under a lease, as a claim holds a row under one: until it
        # runs out, the sweeper leaves them to the queue, however long it is.
        queued_until = connection.ops.adapt_datetimefield_value(_lease_end(now))
        alert_key = Alert._meta.pk.get_db_prep_value(alert.id, connection)
        with connection.cursor() as cursor:
            cursor.execute(statement, [alert_key, stamp, queued_until, stamp, *rows_params])
            created = max(cursor.rowcount, 0)
        alert.state = Alert.State.SENDING if created else Alert.State.DONE
        alert.fanned_out_at = now
        alert.finished_at = None if created else now
        alert.recipients = created
        alert.save(
            update_fields=["state", "fanned_out_at", "finished_at", "recipients", "updated_at"]
        )
        transaction.on_commit(lambda: _ledger_grew(created))
        transaction.on_commit(lambda: alert_enqueue(alert_id=str(alert.id)))
    return FanOutResult(alert_id=str(alert.id), created=created)


# Rows a fan-out writes past which the ledger's statistics are refreshed before sending.
ANALYZE_AFTER_ROWS = 10_000


def _ledger_grew(created: int) -> None:
    """After a large fan-out, refresh the planner's statistics before the first claim: with
    the old ones, many new rows all pending and due look rare, and each claim read the whole
    due index instead of looking its rows up by id (docs/performance.md)."""
    if created >= ANALYZE_AFTER_ROWS and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {Delivery._meta.db_table}")


def _lease_end(now: datetime.datetime) -> datetime.datetime:
    return now + datetime.timedelta(seconds=settings.ALERT_LEASE_SECONDS)


def alert_enqueue(*, alert_id: str) -> int:
    """Publish the send tasks of an alert's pending rows, then note it on the alert."""
    queued = deliveries_enqueue(alert_id=alert_id)
    Alert.objects.filter(id=alert_id).update(enqueued_at=timezone.now())
    return queued


def _chunks(ids: Iterator[int], size: int) -> Iterator[list[int]]:
    chunk: list[int] = []
    for delivery_id in ids:
        chunk.append(delivery_id)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _publish(rows: QuerySet[Delivery], *, lease_until: datetime.datetime | None = None) -> int:
    """Send tasks for the rows, a chunk of ids per task on each channel's own queue; with
    `lease_until`, each chunk's rows still pending take that queue lease first. Streams ids
    from the database: memory stays flat."""
    from notifications.tasks import send_deliveries

    queued = 0
    for channel in Channel.values:
        ids = (
            rows.filter(channel=channel)
            .order_by("id")
            .values_list("id", flat=True)
            .iterator(chunk_size=10_000)
        )
        for chunk in _chunks(ids, settings.ALERT_CHUNK_SIZE):
            if lease_until is not None:
                Delivery.objects.filter(id__any=chunk, status=Status.PENDING).update(
                    lease_expires_at=lease_until
                )
            send_deliveries.apply_async(args=(chunk,), queue=channel)
            queued += len(chunk)
    return queued


def deliveries_enqueue(*, alert_id: str) -> int:
    """Send tasks for an alert's pending rows."""
    return _publish(Delivery.objects.filter(alert_id=alert_id, status=Status.PENDING))


def _deliveries_requeue(now: datetime.datetime) -> int:
    """Publish again the due pending rows that no queue holds: their queue lease ran out (the
    broker lost the message, or the queue is longer than the lease) or a failed attempt gave
    them back. Each takes a new lease first, so the next sweeps leave it to the queue rather
    than publish it every time while a long queue drains."""
    unheld = Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now)
    due = Delivery.objects.filter(unheld, status=Status.PENDING, next_attempt_at__lte=now)
    return _publish(due, lease_until=_lease_end(now))


def _claim(delivery_ids: Sequence[int], now: datetime.datetime) -> list[Delivery]:
    """Take the rows that are still pending and due, skipping any another worker holds, for
    their hand-off now: claimed under a lease and stamped `handoff_at`. Returns them claimed,
    in id order."""
    lease_expires_at = _lease_end(now)
    if connection.vendor == "postgresql":
        # One statement (its own transaction) where the ORM needs three.
        table = Delivery._meta.db_table
        fields = [field.attname for field in Delivery._meta.concrete_fields]
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                UPDATE {table} SET status = 'sending', attempts = attempts + 1,
                    lease_expires_at = %s, handoff_at = %s
                WHERE id IN (
                    SELECT id FROM {table}
                    WHERE id = ANY(%s) AND status = 'pending' AND next_attempt_at <= %s
                    FOR UPDATE SKIP LOCKED
                )
                RETURNING {", ".join(fields)}
                """,  # noqa: S608 - names come from model metadata
                [lease_expires_at, now, list(delivery_ids), now],
            )
            rows = [Delivery.from_db(connection.alias, fields, row) for row in cursor.fetchall()]
        return sorted(rows, key=lambda row: row.id)
    with transaction.atomic():
        claimed = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(id__in=delivery_ids, status=Status.PENDING, next_attempt_at__lte=now)
            .values_list("id", flat=True)
        )
        Delivery.objects.filter(id__in=claimed).update(
            status=Status.SENDING,
            attempts=F("attempts") + 1,
            lease_expires_at=lease_expires_at,
            handoff_at=now,
        )
        return list(Delivery.objects.filter(id__in=claimed).order_by("id"))


def _backoff(attempts: int) -> datetime.timedelta:
    """Exponential with jitter: by default 15-30 s, 30-60 s, 1-2 min ... capped at 30 minutes."""
    ceiling = min(
        settings.ALERT_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0),
        settings.ALERT_RETRY_MAX_SECONDS,
    )
    return datetime.timedelta(seconds=random.uniform(ceiling / 2, ceiling))  # noqa: S311


class _Throttle:
    """The channel's messages-per-second budget, shared by every worker through the cache.

    Slots are reserved a handful at a time (a tenth of the rate, at most a hand-off batch), so
    the cache is asked once per handful, not once per message; reserved slots expire with
    their second, so the rate is never exceeded."""

    def __init__(self, channel: str) -> None:
        self.channel = channel
        self.rate: int = settings.ALERT_RATE_LIMITS[channel]
        self.handful = max(1, min(HANDOFF_BATCH, self.rate // 10))
        self.second = -1
        self.left = 0

    def wait(self) -> None:
        while True:
            now = time.time()
            second = int(now)
            if second == self.second and self.left > 0:
                self.left -= 1
                return
            if hit(
                key=f"alert-rate:{self.channel}:{second}",
                limit=self.rate,
                window_seconds=2,
                cost=self.handful,
                fail_open=True,
            ):
                self.second, self.left = second, self.handful - 1
                return
            time.sleep(max(second + 1 - now, 0.001))


def deliveries_send(*, delivery_ids: Sequence[int]) -> SendResult:
    """Hand each due row's message to its channel and record every answer.

    Rows are claimed a small batch at a time, by the statement that stamps their hand-off:
    a crash mid-batch leaves at most that batch ambiguous, and the task's rows not claimed yet
    stay pending, held by their queue's lease."""
    due = list(
        Delivery.objects.filter(
            id__any=delivery_ids, status=Status.PENDING, next_attempt_at__lte=timezone.now()
        )
        .order_by("id")
        .values("id", "alert_id", "citizen_id", "channel")
    )
    if not due:
        return SendResult()
    citizen_ids = {row["citizen_id"] for row in due if row["citizen_id"]}
    # Read once per task, not joined to each row (which would decode its JSON per row).
    alerts = Alert.objects.in_bulk({row["alert_id"] for row in due})
    contacts = citizen_contacts(citizen_ids=citizen_ids, channels={row["channel"] for row in due})
    suppressed = set(
        Suppression.objects.filter(citizen_id__any=citizen_ids).values_list("citizen_id", "channel")
    )
    renderers: dict[uuid.UUID, Renderer] = {}
    channels: dict[str, BaseChannel] = {}
    throttles = {name: _Throttle(name) for name in Channel.values}
    totals = {"claimed": 0, "sent": 0, "retrying": 0, "failed": 0, "skipped": 0}
    try:
        for start in range(0, len(due), HANDOFF_BATCH):
            batch = _claim(
                [row["id"] for row in due[start : start + HANDOFF_BATCH]], timezone.now()
            )
            totals["claimed"] += len(batch)
            outgoing: dict[str, list[tuple[Delivery, OutgoingMessage]]] = {}
            for row in batch:
                row.alert = alerts[row.alert_id]
                prepared = _prepare(row, contacts, suppressed, renderers)
                if isinstance(prepared, OutgoingMessage):
                    outgoing.setdefault(row.channel, []).append((row, prepared))
                else:
                    totals[prepared] += 1
            for name, pairs in outgoing.items():
                answers = _hand_off(name, [message for _, message in pairs], channels, throttles)
                for (row, _message), answer in zip(pairs, answers, strict=True):
                    totals[_note_answer(row, answer)] += 1
            _record(batch)
    finally:
        for channel in channels.values():
            channel.close()
    _alerts_finish(set(alerts))
    return SendResult(**totals)


def _prepare(
    row: Delivery,
    contacts: dict[uuid.UUID, CitizenContact],
    suppressed: set[tuple[uuid.UUID, str]],
    renderers: dict[uuid.UUID, Renderer],
) -> OutgoingMessage | str:
    """The row's message, or, when it is not to be sent, its new state set in memory and the
    outcome to count."""
    now = timezone.now()
    row.lease_expires_at = None
    renderer = renderers.get(row.alert_id)
    if renderer is None:
        renderer = renderers[row.alert_id] = renderer_for(row.alert)
    contact = contacts.get(row.citizen_id) if row.citizen_id else None
    if contact is not None:
        contact = renderer.contact(contact)
    address = (
        ""
        if contact is None
        else (contact.email if row.channel == Channel.EMAIL else contact.phone)
    )
    if row.alert.state == Alert.State.CANCELLED:
        row.status, row.finished_at, row.handoff_at = Status.CANCELLED, now, None
        return "skipped"
    if (row.citizen_id, row.channel) in suppressed:
        row.status, row.finished_at, row.handoff_at = Status.SUPPRESSED, now, None
        return "skipped"
    if contact is None or not address:
        # Erased, or the channel is no longer verified: there is nobody to send to.
        row.status, row.finished_at, row.handoff_at = Status.CANCELLED, now, None
        row.error_code, row.error_reason = "no_address", "no verified address"
        return "skipped"
    return renderer.message(
        delivery_id=row.id, channel=row.channel, region_code=row.region_code, contact=contact
    )


def _hand_off(
    name: str,
    messages: list[OutgoingMessage],
    channels: dict[str, BaseChannel],
    throttles: dict[str, _Throttle],
) -> list[Receipt | SendError]:
    """The channel's answer to each message, the channel opened on first use."""
    channel = channels.get(name)
    try:
        if channel is None:
            channel = channels[name] = get_channel(name)
            channel.open()
    except SendError as error:
        return [error for _ in messages]
    return channel.send_many(messages, pace=throttles[name].wait)


def _note_answer(row: Delivery, answer: Receipt | SendError) -> str:
    """Set the row's new state in memory from the provider's answer; the caller writes the
    batch."""
    now = timezone.now()
    if isinstance(answer, SendError):
        row.error_code, row.error_reason = answer.code[:50], answer.reason[:500]
        row.handoff_at = None
        if answer.permanent or row.attempts >= settings.ALERT_MAX_ATTEMPTS:
            row.status, row.finished_at = Status.FAILED, now
            return "failed"
        row.status, row.next_attempt_at = Status.PENDING, now + _backoff(row.attempts)
        return "retrying"
    row.status, row.sent_at = Status.SENT, now
    row.provider_id, row.segments = answer.provider_id[:200], answer.segments
    row.error_code, row.error_reason = "", ""
    return "sent"


RECORDED_FIELDS = [
    "status",
    "provider_id",
    "segments",
    "sent_at",
    "finished_at",
    "next_attempt_at",
    "error_code",
    "error_reason",
    "lease_expires_at",
    "handoff_at",
]


def _record(batch: list[Delivery]) -> None:
    """Write a batch's outcomes in one statement, only to rows still ours: a receipt may
    already have moved one forward."""
    if connection.vendor != "postgresql":
        Delivery.objects.filter(status=Status.SENDING).bulk_update(batch, RECORDED_FIELDS)
        return
    # On PostgreSQL one UPDATE ... FROM unnest(arrays): Django's bulk_update builds a CASE
    # per field and row, which costs more than sending the messages.
    columns = {name: [getattr(row, name) for row in batch] for name in RECORDED_FIELDS}
    types = {
        "status": "text",
        "provider_id": "text",
        "segments": "int",
        "sent_at": "timestamptz",
        "finished_at": "timestamptz",
        "next_attempt_at": "timestamptz",
        "error_code": "text",
        "error_reason": "text",
        "lease_expires_at": "timestamptz",
        "handoff_at": "timestamptz",
    }
    table = Delivery._meta.db_table
    assignments = ", ".join(f"{name} = v.{name}" for name in RECORDED_FIELDS)
    unnest = ", ".join(f"%s::{types[name]}[]" for name in RECORDED_FIELDS)
    statement = (
        f"UPDATE {table} AS d SET {assignments} "  # noqa: S608 - names from this module
        f"FROM unnest(%s::bigint[], {unnest}) AS v(id, {', '.join(RECORDED_FIELDS)}) "
        f"WHERE d.id = v.id AND d.status = 'sending'"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            statement, [[row.id for row in batch], *(columns[name] for name in RECORDED_FIELDS)]
        )


def _alerts_finish(alert_ids: set[uuid.UUID]) -> None:
    """Mark done the alerts with no row left to send, in one statement."""
    open_rows = Delivery.objects.filter(alert_id=OuterRef("id"), status__in=OPEN_STATUSES)
    Alert.objects.filter(id__in=alert_ids, state=Alert.State.SENDING).exclude(
        Exists(open_rows)
    ).update(state=Alert.State.DONE, finished_at=timezone.now())


def deliveries_sweep() -> SweepResult:
    """Recover what a lost broker message or a dead worker left behind.

    Claimed rows whose lease expired become ambiguous (they may have left: never resent
    silently). Alerts whose fan-out was never run are fanned out, and those whose rows were
    never published are published. Then due pending rows that no queue holds are published
    again."""
    now = timezone.now()
    ambiguous = Delivery.objects.filter(status=Status.SENDING, lease_expires_at__lt=now).update(
        status=Status.AMBIGUOUS,
        finished_at=now,
        lease_expires_at=None,
        error_code="lease_expired",
        error_reason="worker lost during hand-off",
    )
    # Drafts and messages awaiting approval are not in this state: only approval puts a
    # staff message here, and its grace period starts then, not when it was written.
    cutoff = now - datetime.timedelta(seconds=settings.ALERT_FAN_OUT_GRACE_SECONDS)
    stale_alerts = list(
        Alert.objects.filter(state=Alert.State.FANNING_OUT, created_at__lt=cutoff)
        .filter(Q(approved_at__isnull=True) | Q(approved_at__lt=cutoff))
        .values_list("id", flat=True)
    )
    from notifications.tasks import fan_out_alert

    for alert_id in stale_alerts:
        fan_out_alert.delay(str(alert_id))
    unpublished = list(
        Alert.objects.filter(
            state=Alert.State.SENDING, enqueued_at__isnull=True, fanned_out_at__lt=cutoff
        ).values_list("id", flat=True)
    )
    for alert_id in unpublished:
        alert_enqueue(alert_id=str(alert_id))
    requeued = _deliveries_requeue(now)
    _alerts_finish(
        set(Alert.objects.filter(state=Alert.State.SENDING).values_list("id", flat=True)[:1000])
    )
    return SweepResult(
        requeued=requeued,
        ambiguous=ambiguous,
        alerts_resumed=len(stale_alerts) + len(unpublished),
    )


def _require_alert_operator(*, user: User, alert: Alert) -> None:
    require_role(
        user=user,
        roles=ALERT_OPERATOR_ROLES,
        country_code=alert.country_id,
        message=_("Only the officers of a post covering this country can act on its alerts."),
    )


def alert_cancel(*, alert: Alert, cancelled_by: User) -> Alert:
    """Stop an alert: rows not yet handed off are cancelled; what left stays as it is. A staff
    message still in draft or awaiting approval is simply never sent. Officers (and post
    administrators) of a post covering the country only."""
    _require_alert_operator(user=cancelled_by, alert=alert)
    with transaction.atomic():
        alert = Alert.objects.select_for_update().get(id=alert.id)
        if alert.state in (Alert.State.DONE, Alert.State.CANCELLED):
            raise Conflict(_("This alert has finished already."), field="state")
        now = timezone.now()
        Delivery.objects.filter(alert=alert, status=Status.PENDING).update(
            status=Status.CANCELLED, finished_at=now
        )
        alert.state, alert.finished_at = Alert.State.CANCELLED, now
        alert.save(update_fields=["state", "finished_at", "updated_at"])
        audit_record(
            actor=cancelled_by,
            action=Action.CHANGE,
            obj=alert,
            detail={"step": "cancel", "country": alert.country_id},
        )
    return alert


def alert_resend_failed(*, alert: Alert, actor: User) -> int:
    """Give the failed rows of an alert a new round of attempts. Officers (and post
    administrators) of a post covering the country only."""
    _require_alert_operator(user=actor, alert=alert)
    with transaction.atomic():
        alert = Alert.objects.select_for_update().get(id=alert.id)
        if alert.state == Alert.State.CANCELLED:
            raise Conflict(_("This alert was cancelled."), field="state")
        now = timezone.now()
        count = Delivery.objects.filter(alert=alert, status=Status.FAILED).update(
            status=Status.PENDING,
            attempts=0,
            next_attempt_at=now,
            lease_expires_at=_lease_end(now),
            finished_at=None,
        )
        if count:
            alert.state, alert.finished_at = Alert.State.SENDING, None
            alert.save(update_fields=["state", "finished_at", "updated_at"])
            transaction.on_commit(lambda: deliveries_enqueue(alert_id=str(alert.id)))
    return count


def suppression_add(*, citizen_id: uuid.UUID | str, channel: str, reason: str) -> None:
    """Stop using the channel for the citizen; adding it twice changes nothing."""
    Suppression.objects.get_or_create(
        citizen_id=citizen_id, channel=channel, defaults={"reason": reason}
    )


def suppression_lift(*, citizen_id: uuid.UUID | str, channel: str) -> None:
    """START: the citizen wants the channel again (a hard bounce stays until fixed)."""
    Suppression.objects.filter(
        citizen_id=citizen_id, channel=channel, reason=Suppression.Reason.OPT_OUT
    ).delete()


# A receipt may move a row only forward along this order; final states never change, except
# that a late "delivered" settles an ambiguous row (it did leave, once).
_RANK = {
    Status.PENDING: 0,
    Status.SENDING: 1,
    Status.AMBIGUOUS: 2,
    Status.SENT: 2,
    Status.DELIVERED: 3,
    Status.BOUNCED: 3,
    Status.FAILED: 3,
}


@dataclass(frozen=True)
class ReceiptInput:
    channel: str
    status: str  # delivered | bounced | failed
    provider_id: str = ""
    delivery_id: int | None = None
    error_code: str = ""


def receipt_apply(*, receipt: ReceiptInput) -> bool:
    """Record a provider's receipt. Duplicates and receipts older than the row's state are
    harmless no-ops; returns whether the row changed. A hard bounce suppresses the channel."""
    # Our reference finds a row whose provider id is not recorded yet (a fast receipt).
    match = Q()
    if receipt.provider_id:
        match |= Q(provider_id=receipt.provider_id)
    if receipt.delivery_id is not None:
        match |= Q(id=receipt.delivery_id)
    if not match:
        return False
    rows = Delivery.objects.filter(match, channel=receipt.channel)
    new_status = Status(receipt.status)
    lower = [status for status, rank in _RANK.items() if rank < _RANK[new_status]]
    now = timezone.now()
    with transaction.atomic():
        row = rows.select_for_update().filter(status__in=lower).first()
        if row is None:
            return False
        row.status = new_status
        row.finished_at = now
        row.lease_expires_at = None
        if new_status == Status.DELIVERED:
            row.delivered_at = now
        else:
            row.error_code = receipt.error_code[:50]
        if receipt.provider_id and not row.provider_id:
            row.provider_id = receipt.provider_id
        row.save(
            update_fields=[
                "status",
                "finished_at",
                "lease_expires_at",
                "delivered_at",
                "error_code",
                "provider_id",
            ]
        )
        if new_status == Status.BOUNCED and row.citizen_id:
            suppression_add(
                citizen_id=row.citizen_id, channel=row.channel, reason=Suppression.Reason.BOUNCE
            )
    return True


def email_complaint_record(*, provider_id: str, delivery_id: int | None) -> None:
    """A recipient marked our email as spam: stop emailing them (the message did arrive)."""
    match = Q(provider_id=provider_id) if provider_id else Q(pk__in=[])
    if delivery_id is not None:
        match |= Q(id=delivery_id)
    row = Delivery.objects.filter(match, channel=Channel.EMAIL).only("citizen_id").first()
    if row is not None and row.citizen_id:
        suppression_add(
            citizen_id=row.citizen_id, channel=Channel.EMAIL, reason=Suppression.Reason.COMPLAINT
        )


OPT_OUT_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "REVOKE", "OPTOUT", "CANCEL", "END", "QUIT"}
OPT_IN_WORDS = {"START", "UNSTOP", "SUBSCRIBE"}


def inbound_record(*, provider: str, provider_id: str, sender: str, body: str) -> InboundMessage:
    """Store a text a citizen sent us, once. STOP-like words suppress SMS for every citizen
    with that verified number, START lifts it; anything else is published for the cases app."""
    citizen_ids = citizen_ids_by_phone(phone=sender)
    with transaction.atomic():
        message, created = InboundMessage.objects.get_or_create(
            provider=provider,
            provider_id=provider_id,
            defaults={
                "sender": sender[:32],
                "body": body[:1600],
                "citizen_id": citizen_ids[0] if citizen_ids else None,
            },
        )
        if not created:
            return message
        keyword = body.strip().upper().rstrip(".!")
        if keyword in OPT_OUT_WORDS:
            for citizen_id in citizen_ids:
                suppression_add(
                    citizen_id=citizen_id, channel=Channel.SMS, reason=Suppression.Reason.OPT_OUT
                )
        elif keyword in OPT_IN_WORDS:
            for citizen_id in citizen_ids:
                suppression_lift(citizen_id=citizen_id, channel=Channel.SMS)
        else:
            events.publish(
                InboundSmsReceived(
                    message_id=str(message.id),
                    citizen_id=str(message.citizen_id) if message.citizen_id else None,
                )
            )
    return message


def inbound_message_claim(*, message_id: str) -> InboundMessage | None:
    """The message, marked handled in the caller's transaction; None when it does not exist or
    is handled already. Two concurrent claims queue on the row: the second finds it handled
    once the first commits, or claims it if the first rolled back."""
    claimed = InboundMessage.objects.filter(id=message_id, handled_at__isnull=True).update(
        handled_at=timezone.now()
    )
    if not claimed:
        return None
    return InboundMessage.objects.only("id", "sender", "body").get(id=message_id)


def citizens_personal_data_erase(citizen_ids: list[uuid.UUID]) -> dict[str, int]:
    """The alerts' eraser (see `core.personal_data`), run before the citizen rows go.

    - Deliveries stay, so an alert's counts do not change, but lose the link to the person and
      the provider's error text (the only free text on the row). Nothing else on a row names
      anyone: the address is read from the register at send time, never stored here.
    - Suppressions exist only for the person: deleted.
    - Inbound texts lose their sender's number and their words (the row stays empty, so a
      provider retrying the webhook finds it and stores nothing again). Texts from one of
      their numbers that matched nobody at the time are theirs too.
    - A message alert written to them alone (a case officer's message, a clarification) has its
      texts replaced by the erased marker; alerts to many keep their shared texts.
    - The development outbox's copies of messages sent to an address they gave are deleted.
    """
    ledger_lock(exclusive=True)
    addresses = citizen_addresses(citizen_ids=citizen_ids)
    deliveries = Delivery.objects.filter(citizen_id__in=citizen_ids).update(
        citizen=None, error_reason=""
    )
    suppressions, _detail = Suppression.objects.filter(citizen_id__in=citizen_ids).delete()
    number_hashes = [
        digest
        for address in addresses
        if address.startswith("+")
        for digest in keyed_hashes(address, kind="phone")
    ]
    inbound = InboundMessage.objects.filter(
        Q(citizen_id__in=citizen_ids) | Q(citizen__isnull=True, sender_hash__in=number_hashes)
    ).update(citizen=None, sender="", sender_hash="", body="")
    to_them_alone = Q(pk__in=[])
    for citizen_id in citizen_ids:
        to_them_alone |= Q(citizen_ids=[str(citizen_id)])
    marker = personal_data.erased_marker()
    erased_texts = {
        language: {"subject": marker, "text": marker, "sms": marker} for language in ("en", "fr")
    }
    alerts = Alert.objects.filter(to_them_alone, kind=Alert.Kind.MESSAGE).update(texts=erased_texts)
    outbox, _detail = OutboxMessage.objects.filter(to__in=addresses).delete()
    return {
        "notifications.delivery": deliveries,
        "notifications.suppression": suppressions,
        "notifications.inboundmessage": inbound,
        "notifications.alert": alerts,
        "notifications.outboxmessage": outbox,
    }
