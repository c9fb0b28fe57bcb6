"""Hand-off: the send tasks of an alert's rows are queued, each task claims its rows a small
batch at a time, renders each message, hands it to its channel within the channel's rate, and
records every answer; a transient failure is retried later with backoff. The sweep recovers
what a lost broker message or a dead worker left behind."""

import datetime
import random
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from core.channels import BaseChannel, OutgoingMessage, Receipt, SendError
from core.ratelimit import hit
from notifications import ledger, queue
from notifications.channels import get_channel
from notifications.models import Alert, Channel, Delivery, Suppression
from notifications.rendering import Renderer, renderer_for
from registrations.selectors import CitizenContact, citizen_contacts

Status = Delivery.Status
# Rows handed to the provider between two writes to the ledger: what a crash can leave
# ambiguous.
HANDOFF_BATCH = 25


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
            queue.send_deliveries(delivery_ids=chunk, channel=channel)
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
    return _publish(due, lease_until=ledger.lease_end(now))


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
    suppressed = {
        (citizen_id, channel): reason
        for citizen_id, channel, reason in Suppression.objects.filter(
            citizen_id__any=citizen_ids
        ).values_list("citizen_id", "channel", "reason")
    }
    renderers: dict[uuid.UUID, Renderer] = {}
    channels: dict[str, BaseChannel] = {}
    throttles = {name: _Throttle(name) for name in Channel.values}
    totals = {"claimed": 0, "sent": 0, "retrying": 0, "failed": 0, "skipped": 0}
    try:
        for start in range(0, len(due), HANDOFF_BATCH):
            batch = ledger.deliveries_claim(
                delivery_ids=[row["id"] for row in due[start : start + HANDOFF_BATCH]],
                now=timezone.now(),
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
            ledger.deliveries_record(batch=batch)
    finally:
        for channel in channels.values():
            channel.close()
    ledger.alerts_finish(alert_ids=set(alerts))
    return SendResult(**totals)


def _prepare(
    row: Delivery,
    contacts: dict[uuid.UUID, CitizenContact],
    suppressed: dict[tuple[uuid.UUID, str], str],
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
    suppression = suppressed.get((row.citizen_id, row.channel)) if row.citizen_id else None
    if suppression is not None and not (
        row.alert.confirms_opt_out and suppression == Suppression.Reason.OPT_OUT
    ):
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


def deliveries_sweep() -> SweepResult:
    """Recover what a lost broker message or a dead worker left behind.

    Claimed rows whose lease expired become ambiguous (they may have left: never resent
    silently). Alerts whose fan-out was never run are fanned out, and those whose rows were
    never published are published. Then due pending rows that no queue holds are published
    again."""
    now = timezone.now()
    ambiguous = ledger.leases_expire(now=now)
    # Drafts and messages awaiting approval are not in this state: only approval puts a
    # staff message here, and its grace period starts then, not when it was written.
    cutoff = now - datetime.timedelta(seconds=settings.ALERT_FAN_OUT_GRACE_SECONDS)
    stale_alerts = list(
        Alert.objects.filter(state=Alert.State.FANNING_OUT, created_at__lt=cutoff)
        .filter(Q(approved_at__isnull=True) | Q(approved_at__lt=cutoff))
        .values_list("id", flat=True)
    )
    for alert_id in stale_alerts:
        queue.fan_out_now(alert_id=str(alert_id))
    unpublished = list(
        Alert.objects.filter(
            state=Alert.State.SENDING, enqueued_at__isnull=True, fanned_out_at__lt=cutoff
        ).values_list("id", flat=True)
    )
    for alert_id in unpublished:
        alert_enqueue(alert_id=str(alert_id))
    requeued = _deliveries_requeue(now)
    ledger.alerts_finish(
        alert_ids=set(
            Alert.objects.filter(state=Alert.State.SENDING).values_list("id", flat=True)[:1000]
        )
    )
    return SweepResult(
        requeued=requeued,
        ambiguous=ambiguous,
        alerts_resumed=len(stale_alerts) + len(unpublished),
    )
