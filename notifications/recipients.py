"""Who an alert reaches, as SQL the database runs: the fan-out inserts these rows into the
ledger, and a staff message's preview counts the same rows before anything is sent, so the
numbers staff approve are the numbers that go out."""

from typing import Any

from django.conf import settings
from django.utils import timezone

from notifications.messaging import RECIPIENT_COLUMNS, message_recipients
from notifications.models import Alert, Suppression
from registrations.selectors import citizens_present_in_regions


def recipients_sql(alert: Alert) -> tuple[str, tuple[Any, ...]]:
    """The alert's recipients in the columns the ledger rows read (one row per citizen)."""
    if alert.kind in (Alert.Kind.MESSAGE, Alert.Kind.STAFF_MESSAGE):
        return message_recipients(alert)
    recipients = citizens_present_in_regions(
        country_code=alert.country_id,
        region_codes=alert.region_codes,
        on_date=timezone.localdate(),
        lookahead_days=settings.ALERT_LOOKAHEAD_DAYS,
    ).values(*RECIPIENT_COLUMNS)
    sql, params = recipients.query.sql_with_params()
    return sql, params


def ledger_rows_sql(alert: Alert) -> tuple[str, list[Any]]:
    """One row (citizen_id, channel, region_code, language) per Delivery the fan-out writes:
    each recipient's verified, chosen and unsuppressed channels."""
    sql, params = recipients_sql(alert)
    suppression = Suppression._meta.db_table
    statement = f"""
        SELECT r.id AS citizen_id, ch.channel AS channel,
            COALESCE(r.matched_region_code, '') AS region_code, r.language AS language
        FROM ({sql}) r
        CROSS JOIN (SELECT 'email' AS channel UNION ALL SELECT 'sms') ch
        WHERE (
            (ch.channel = 'email' AND r.notify_by_email AND r.email_verified_at IS NOT NULL)
            OR (ch.channel = 'sms' AND r.notify_by_sms AND r.phone_verified_at IS NOT NULL)
        )
        AND NOT EXISTS (
            SELECT 1 FROM {suppression} s WHERE s.citizen_id = r.id AND s.channel = ch.channel
        )
        AND ((ch.channel = 'email' AND %s) OR (ch.channel = 'sms' AND %s))
    """  # noqa: S608 - the table name comes from model metadata, values are parameters
    return statement, [*params, alert.send_email, alert.send_sms]
