"""The delivery ledger's statements: one row per person and channel, moved forward only.

The ledger in the database is the truth; broker messages only say "look at these rows now".
Every statement is guarded by the row's status, so a redelivered task, a second fan-out or a
sweep that races a worker changes nothing that was already done.

The hottest statements have a PostgreSQL form (one statement where the ORM needs several) and
a portable form for SQLite, which `make run` uses; each pair sits side by side below, chosen
in one place (`_on_postgresql`)."""

import datetime
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from notifications.models import Alert, Delivery

Status = Delivery.Status
OPEN_STATUSES = (Status.PENDING, Status.SENDING)

# The ledger keeps no foreign key to the register (see `Delivery.citizen`); fan-outs and
# erasures meet on this lock instead. An erasure waits for the fan-outs in progress to commit
# and then unlinks their rows too; a fan-out that starts meanwhile waits, then reads the
# register as the erasure left it.
_LEDGER_LOCK_KEY = 0x636F6E73
# Rows a fan-out writes past which the ledger's statistics are refreshed before sending.
ANALYZE_AFTER_ROWS = 10_000
# What a hand-off writes back to each row it claimed.
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
_RECORDED_TYPES = {
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


def _on_postgresql() -> bool:
    return connection.vendor == "postgresql"


def lease_end(now: datetime.datetime) -> datetime.datetime:
    return now + datetime.timedelta(seconds=settings.ALERT_LEASE_SECONDS)


def ledger_lock(*, exclusive: bool) -> None:
    """Hold, until the transaction ends, the lock an erasure takes alone and fan-outs share.
    SQLite runs one writing transaction at a time: nothing to take there."""
    if not _on_postgresql():
        return
    function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(%s)", [_LEDGER_LOCK_KEY])


@dataclass(frozen=True)
class Inserted:
    """What a fan-out wrote: rows (one message each) and the distinct people they go to."""

    messages: int
    people: int


def deliveries_insert(
    *, alert: Alert, rows_sql: str, rows_params: Sequence[Any], now: datetime.datetime
) -> Inserted:
    """Insert one pending row per (citizen_id, channel, region_code, language) the SQL
    selects, in one INSERT ... SELECT the database runs; rows already there are left alone (ON
    CONFLICT on the ledger's unique key). Returns how many were inserted, and for how many
    people."""
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
    stamp = connection.ops.adapt_datetimefield_value(now)
    # The rows go to the queue under a lease, as a claim holds a row under one: until it
    # runs out, the sweeper leaves them to the queue, however long it is.
    queued_until = connection.ops.adapt_datetimefield_value(lease_end(now))
    alert_key = Alert._meta.pk.get_db_prep_value(alert.id, connection)
    params = [alert_key, stamp, queued_until, stamp, *rows_params]
    if _on_postgresql():
        return _insert_postgresql(statement, params)
    return _insert_portable(statement, params, alert_id=alert.id, created_at=now)


def _insert_postgresql(statement: str, params: list[Any]) -> Inserted:
    # The people are counted from the rows the INSERT returns, in the same statement: no
    # second pass over a million rows.
    with connection.cursor() as cursor:
        # Recipients are sorted to pick each one's region, and the inserted rows to count
        # their people: a million of them fit in memory for this transaction, instead of
        # spilling to disk under the default work_mem.
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute(
            f"WITH inserted AS ({statement} RETURNING citizen_id) "  # noqa: S608 - see above
            "SELECT COUNT(*), COUNT(DISTINCT citizen_id) FROM inserted",
            params,
        )
        messages, people = cursor.fetchone()
    return Inserted(messages=messages, people=people)


def _insert_portable(
    statement: str, params: list[Any], *, alert_id: uuid.UUID, created_at: datetime.datetime
) -> Inserted:
    # SQLite takes no INSERT inside WITH: the people are counted on the alert's rows this
    # statement wrote (stamped with its time), found through the index led by the alert.
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        messages = max(cursor.rowcount, 0)
    people = (
        Delivery.objects.filter(alert_id=alert_id, created_at=created_at)
        .values("citizen_id")
        .distinct()
        .count()
    )
    return Inserted(messages=messages, people=people)


def statistics_refresh(*, inserted: int) -> None:
    """After a large fan-out, refresh the planner's statistics before the first claim: with
    the old ones, many new rows all pending and due look rare, and each claim read the whole
    due index instead of looking its rows up by id (docs/performance.md)."""
    if inserted >= ANALYZE_AFTER_ROWS and _on_postgresql():
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {Delivery._meta.db_table}")


def deliveries_claim(*, delivery_ids: Sequence[int], now: datetime.datetime) -> list[Delivery]:
    """Take the rows that are still pending and due, skipping any another worker holds, for
    their hand-off now: claimed under a lease and stamped `handoff_at`. Returns them claimed,
    in id order."""
    claim = _claim_postgresql if _on_postgresql() else _claim_portable
    return claim(delivery_ids, now, lease_end(now))


def _claim_postgresql(
    delivery_ids: Sequence[int], now: datetime.datetime, lease_expires_at: datetime.datetime
) -> list[Delivery]:
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


def _claim_portable(
    delivery_ids: Sequence[int], now: datetime.datetime, lease_expires_at: datetime.datetime
) -> list[Delivery]:
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


def deliveries_record(*, batch: list[Delivery]) -> None:
    """Write a batch's outcomes (RECORDED_FIELDS) in one statement, only to rows still being
    sent: a receipt may already have moved one forward."""
    record = _record_postgresql if _on_postgresql() else _record_portable
    record(batch)


def _record_postgresql(batch: list[Delivery]) -> None:
    # One UPDATE ... FROM unnest(arrays): Django's bulk_update builds a CASE per field and
    # row, which costs more than sending the messages.
    columns = {name: [getattr(row, name) for row in batch] for name in RECORDED_FIELDS}
    table = Delivery._meta.db_table
    assignments = ", ".join(f"{name} = v.{name}" for name in RECORDED_FIELDS)
    unnest = ", ".join(f"%s::{_RECORDED_TYPES[name]}[]" for name in RECORDED_FIELDS)
    statement = (
        f"UPDATE {table} AS d SET {assignments} "  # noqa: S608 - names from this module
        f"FROM unnest(%s::bigint[], {unnest}) AS v(id, {', '.join(RECORDED_FIELDS)}) "
        f"WHERE d.id = v.id AND d.status = 'sending'"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            statement, [[row.id for row in batch], *(columns[name] for name in RECORDED_FIELDS)]
        )


def _record_portable(batch: list[Delivery]) -> None:
    Delivery.objects.filter(status=Status.SENDING).bulk_update(batch, RECORDED_FIELDS)


def leases_expire(*, now: datetime.datetime) -> int:
    """Claimed rows whose lease ran out become ambiguous: they may have left, so they are
    never sent again silently. Returns how many."""
    return Delivery.objects.filter(status=Status.SENDING, lease_expires_at__lt=now).update(
        status=Status.AMBIGUOUS,
        finished_at=now,
        lease_expires_at=None,
        error_code="lease_expired",
        error_reason="worker lost during hand-off",
    )


def alerts_finish(*, alert_ids: set[uuid.UUID]) -> None:
    """Mark done the alerts with no row left to send, in one statement."""
    open_rows = Delivery.objects.filter(alert_id=OuterRef("id"), status__in=OPEN_STATUSES)
    Alert.objects.filter(id__in=alert_ids, state=Alert.State.SENDING).exclude(
        Exists(open_rows)
    ).update(state=Alert.State.DONE, finished_at=timezone.now())
