"""Who an alert reaches, as SQL the database runs: the fan-out inserts these rows into the
ledger, and a staff message's preview counts the same rows before anything is sent, so the
numbers staff approve are the numbers that go out."""

from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from advisories.events import Notify, RiskLevelChanged
from notifications.models import Alert, Suppression
from regions.selectors import region_codes_of_country, regions_of_country
from registrations.selectors import citizens_named, citizens_present_in_regions

# The columns of a recipient that the ledger's INSERT ... SELECT reads.
RECIPIENT_COLUMNS = (
    "id",
    "language",
    "notify_by_email",
    "notify_by_sms",
    "email_verified_at",
    "phone_verified_at",
    "matched_region_code",
)


def level_change_alert(event: RiskLevelChanged) -> Alert:
    """The alert of one publication, unsaved: its changes are what the publication changed
    region by region, the levels and, unless the editor asked to tell only of level changes,
    the regions whose advice alone changed (their old level is their new one). It reaches the
    people present in those regions, or in the whole country when the editor chose it, and
    the people present in the country with no region. The fan-out sends it; the approver's
    review counts it before."""
    changes = {
        c.region_code: {
            "region_code": c.region_code,
            "old_level": c.old_level,
            "new_level": c.new_level,
        }
        for c in event.changes
    }
    if event.notify_code != Notify.LEVEL_CHANGES:
        for advice in event.advice_changes:
            changes.setdefault(
                advice.region_code,
                {
                    "region_code": advice.region_code,
                    "old_level": advice.new_level,
                    "new_level": advice.new_level,
                },
            )
    if event.notify_code == Notify.COUNTRY:
        region_codes = sorted(region_codes_of_country(country_code=event.country_code))
    else:
        region_codes = sorted(changes)
    return Alert(
        kind=Alert.Kind.LEVEL_CHANGE,
        advisory_id=event.advisory_id,
        country_id=event.country_code,
        changes=[changes[code] for code in sorted(changes)],
        region_codes=region_codes,
    )


def ledger_rows_sql(alert: Alert) -> tuple[str, list[Any]]:
    """One row (citizen_id, channel, region_code, language) per Delivery the fan-out writes:
    each recipient's verified, chosen and unsuppressed channels. The confirmation of an
    opt-out passes that opt-out (`Alert.confirms_opt_out`), and only it."""
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
            AND NOT (%s AND s.reason = %s)
        )
        AND ((ch.channel = 'email' AND %s) OR (ch.channel = 'sms' AND %s))
    """  # noqa: S608 - the table name comes from model metadata, values are parameters
    return statement, [
        *params,
        alert.confirms_opt_out,
        Suppression.Reason.OPT_OUT.value,
        alert.send_email,
        alert.send_sms,
    ]


def recipients_sql(alert: Alert) -> tuple[str, tuple[Any, ...]]:
    """The alert's recipients in RECIPIENT_COLUMNS (one row per citizen): the people present
    in its regions, or the citizens it names; for an alert to emergency contacts, the
    addresses they gave stand for verified ones."""
    if alert.citizen_ids:
        recipients = citizens_named(citizen_ids=alert.citizen_ids)
    else:
        recipients = citizens_present_in_regions(
            country_code=alert.country_id,
            region_codes=regions_reached(alert),
            on_date=timezone.localdate(),
            lookahead_days=settings.ALERT_LOOKAHEAD_DAYS,
        )
    if alert.audience == Alert.Audience.EMERGENCY_CONTACTS:
        return _emergency_contacts_sql(recipients)
    sql, params = recipients.values(*RECIPIENT_COLUMNS).query.sql_with_params()
    return sql, params


def _emergency_contacts_sql(recipients: QuerySet[Any]) -> tuple[str, tuple[Any, ...]]:
    # The contact's addresses are the ones given, not verified: present them as such.
    sql, params = (
        recipients.annotate(
            has_email=~Q(emergency_contact_email=""),
            has_phone=~Q(emergency_contact_phone=""),
        )
        .values("id", "language", "has_email", "has_phone", "created_at", "matched_region_code")
        .query.sql_with_params()
    )
    return (
        f"SELECT q.id, q.language, q.has_email AS notify_by_email, "  # noqa: S608
        f"q.has_phone AS notify_by_sms, q.created_at AS email_verified_at, "
        f"q.created_at AS phone_verified_at, q.matched_region_code FROM ({sql}) q",
        params,
    )


def regions_reached(alert: Alert) -> list[str]:
    """The regions whose people an alert reaches. A staff message to a region reaches its
    nested subdivisions too (as a level set on a region applies to them), and one that names
    no region reaches the whole country."""
    if alert.kind != Alert.Kind.STAFF_MESSAGE:
        return list(alert.region_codes)
    parents = dict(
        regions_of_country(country_code=alert.country_id).values_list("code", "parent_id")
    )
    if not alert.region_codes:
        return sorted(parents)
    reached = set(alert.region_codes)
    grown = True
    while grown:
        children = {code for code, parent in parents.items() if parent in reached}
        grown = not children <= reached
        reached |= children
    return sorted(reached)
