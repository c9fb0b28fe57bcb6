"""An alert becomes ledger rows: one pending Delivery per recipient and verified, chosen,
unsuppressed channel, written by the database in one statement; then their send tasks are
queued (`sending`)."""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from notifications import ledger
from notifications.models import Alert
from notifications.recipients import ledger_rows_sql
from notifications.sending import alert_enqueue


@dataclass(frozen=True)
class FanOutResult:
    alert_id: str
    created: int
    people: int


def alert_fan_out(*, alert_id: str) -> FanOutResult:
    """Write the alert's ledger rows in one INSERT ... SELECT that the database runs; nothing
    per citizen passes through Python. Running it again inserts nothing."""
    now = timezone.now()
    with transaction.atomic():
        # Before the alert's row lock, in the order an erasure takes them.
        ledger.ledger_lock(exclusive=False)
        alert = Alert.objects.select_for_update().filter(id=alert_id).first()
        if alert is None or alert.state != Alert.State.FANNING_OUT:
            return FanOutResult(alert_id=str(alert_id), created=0, people=0)
        rows_sql, rows_params = ledger_rows_sql(alert)
        inserted = ledger.deliveries_insert(
            alert=alert, rows_sql=rows_sql, rows_params=rows_params, now=now
        )
        alert.state = Alert.State.SENDING if inserted.messages else Alert.State.DONE
        alert.fanned_out_at = now
        alert.finished_at = None if inserted.messages else now
        alert.messages = inserted.messages
        alert.people = inserted.people
        alert.save(
            update_fields=[
                "state",
                "fanned_out_at",
                "finished_at",
                "messages",
                "people",
                "updated_at",
            ]
        )
        transaction.on_commit(lambda: ledger.statistics_refresh(inserted=inserted.messages))
        transaction.on_commit(lambda: alert_enqueue(alert_id=str(alert.id)))
    return FanOutResult(alert_id=str(alert.id), created=inserted.messages, people=inserted.people)
