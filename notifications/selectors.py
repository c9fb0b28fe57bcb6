import datetime
import uuid
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import connection
from django.db.models import Count, Max, Q, QuerySet
from django.db.models.functions import TruncMinute
from django.utils import timezone

from accounts.models import User
from accounts.selectors import REGISTER_ROLES, posts_of_user
from advisories.events import RiskLevelChanged
from advisories.review import SmsPreview
from core import personal_data
from notifications.models import Alert, Delivery, InboundMessage, Suppression
from notifications.recipients import ledger_rows_sql, level_change_alert, regions_reached
from notifications.rendering import RESPONSE_SALT, LevelChangeRenderer


def alerts_for_staff(*, user: User, with_deliveries: bool = False) -> QuerySet[Alert]:
    """Alerts of the countries covered by the user's posts. A message (a case's to one
    citizen, a check's question) is what was written to citizens, and the deliveries say who
    was written to: only the consular staff (officers, post administrators) of the country see
    those; advisory editors and approvers see the level changes and staff messages.
    `with_deliveries`: only the alerts whose deliveries the user may read."""
    # Subqueries, so the scope costs no round trip of its own.
    register = posts_of_user(user=user, roles=REGISTER_ROLES).values("countries")
    countries = register if with_deliveries else posts_of_user(user=user).values("countries")
    return (
        Alert.objects.filter(country_id__in=countries)
        .exclude(Q(kind=Alert.Kind.MESSAGE) & ~Q(country_id__in=register))
        .select_related("country", "created_by", "approved_by")
    )


def alert_exists(*, alert_id: uuid.UUID | str, country_code: str) -> bool:
    """Whether the alert exists and is about the country (what a safety check may answer to)."""
    return Alert.objects.filter(id=alert_id, country_id=country_code).exists()


def alert_counts(*, alert_id: str) -> dict[str, dict[str, int]]:
    """Live counts of one alert's deliveries: {channel: {status: n}} (one grouped query)."""
    return alerts_counts(alert_ids=[alert_id]).get(str(alert_id), {})


def alerts_counts(
    *, alert_ids: Collection[uuid.UUID | str]
) -> dict[str, dict[str, dict[str, int]]]:
    """Live counts of several alerts' deliveries, {alert id: {channel: {status: n}}}, in one
    grouped query whatever their number (a console lists the alerts of the last days)."""
    counts: dict[str, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    rows = (
        Delivery.objects.filter(alert_id__in=list(alert_ids))
        .values_list("alert_id", "channel", "status")
        # count(*), not count(id): the ledger's (alert, channel, status) index then answers
        # alone (an index-only scan), a third faster at 150,000 rows.
        .annotate(n=Count("*"))
        .order_by()
    )
    for alert_id, channel, status, n in rows:
        counts[str(alert_id)][channel][status] = n
    return {alert_id: dict(by_channel) for alert_id, by_channel in counts.items()}


@dataclass(frozen=True)
class AlertProgress:
    """How an alert is going: the people and messages its fan-out wrote, counts, the hand-off
    rate over the last minute, what is left and, at that rate, how long it will take."""

    people: int
    messages: int
    counts: dict[str, dict[str, int]]
    handed_off_last_minute: int
    rate_per_s: float
    remaining: int
    eta_seconds: int | None


def alert_progress(*, alert: Alert) -> AlertProgress:
    counts = alert_counts(alert_id=str(alert.id))
    since = timezone.now() - timedelta(seconds=60)
    recent = Delivery.objects.filter(alert_id=alert.id, sent_at__gte=since).count()
    remaining = sum(
        by_status.get(status, 0)
        for by_status in counts.values()
        for status in (Delivery.Status.PENDING, Delivery.Status.SENDING)
    )
    rate = recent / 60
    return AlertProgress(
        people=alert.people,
        messages=alert.messages,
        counts=counts,
        handed_off_last_minute=recent,
        rate_per_s=round(rate, 1),
        remaining=remaining,
        eta_seconds=round(remaining / rate)
        if rate and remaining
        else (0 if not remaining else None),
    )


def deliveries_of_alert(*, alert_id: str) -> QuerySet[Delivery]:
    return Delivery.objects.filter(alert_id=alert_id).only(
        "id",
        "alert_id",
        "citizen_id",
        "channel",
        "region_code",
        "language",
        "status",
        "attempts",
        "error_code",
        "error_reason",
        "sent_at",
        "delivered_at",
        "finished_at",
    )


RESPONSE_TOKEN_MAX_AGE = datetime.timedelta(days=30)


def response_token_read(token: str) -> tuple[str, str] | None:
    """(alert id, citizen id) of a message's signed response link, or None when it was
    tampered with or is older than a month."""
    try:
        alert_id, citizen_id = signing.loads(
            token, salt=RESPONSE_SALT, max_age=RESPONSE_TOKEN_MAX_AGE
        )
    except (signing.BadSignature, ValueError, TypeError):
        return None
    return str(alert_id), str(citizen_id)


# The ledger's columns that describe the citizen's own message; attempts, leases and provider
# ids are the system's bookkeeping.
_DELIVERY_EXPORT = (
    "alert_id",
    "alert__kind",
    "alert__country",
    "channel",
    "region_code",
    "language",
    "status",
    "created_at",
    "sent_at",
    "delivered_at",
    "finished_at",
    "error_code",
)


def citizen_data_export(citizen_id: uuid.UUID) -> personal_data.Sections:
    """The alerts' rows about one citizen for their export: the messages sent to them (theirs
    only, never another recipient's), the channels they stopped, the texts they sent us."""
    deliveries = (
        Delivery.objects.filter(citizen_id=citizen_id).order_by("id").values(*_DELIVERY_EXPORT)
    )
    suppressions = Suppression.objects.filter(citizen_id=citizen_id).order_by("created_at")
    inbound = InboundMessage.objects.filter(citizen_id=citizen_id).order_by("created_at")
    return {
        "deliveries": [
            {
                name.replace("alert__", "alert_"): personal_data.json_value(value)
                for name, value in row.items()
            }
            for row in deliveries
        ],
        "suppressions": [personal_data.as_row(row, exclude={"citizen"}) for row in suppressions],
        "inbound_messages": [
            personal_data.as_row(row, exclude={"citizen", "provider", "provider_id"})
            for row in inbound
        ],
    }


@dataclass(frozen=True)
class RecipientCounts:
    """What a message's fan-out would write now: messages by channel, and people and
    messages by region ("" for people whose presence names no region) and by language."""

    people: int
    messages: int
    by_channel: dict[str, int]
    by_region: dict[str, dict[str, int]]
    by_language: dict[str, dict[str, int]]


def staff_message_preview(*, alert: Alert) -> RecipientCounts:
    """Counts the very rows the fan-out would insert (same SQL), grouped by the database: two
    small grouped queries whatever the number of citizens."""
    return _ledger_rows_counted(alert)


def message_preview(
    *,
    country_code: str,
    region_codes: Collection[str],
    send_email: bool = True,
    send_sms: bool = True,
) -> RecipientCounts:
    """What `alerts.message_alert_create` with these regions and channels would have its
    fan-out write now (a safety check's question, before anyone approved it): the alert it
    would create, unsaved, counted by the fan-out's own SQL."""
    alert = Alert(
        kind=Alert.Kind.MESSAGE,
        country_id=country_code.upper(),
        region_codes=sorted(region_codes),
        audience=Alert.Audience.CITIZENS,
        send_email=send_email,
        send_sms=send_sms,
    )
    return _ledger_rows_counted(alert)


class PublicationPreviewer:
    """What a publication would send, for the approver's review (`advisories.review`): its
    people and messages counted by the fan-out's SQL, its text messages by the renderer
    that sends them."""

    def reach(self, event: RiskLevelChanged) -> RecipientCounts:
        return _ledger_rows_counted(level_change_alert(event))

    def regions_reached(self, event: RiskLevelChanged) -> list[str]:
        return regions_reached(level_change_alert(event))

    def sms(self, event: RiskLevelChanged) -> list[SmsPreview]:
        alert = level_change_alert(event)
        renderer = LevelChangeRenderer(alert)
        readers = ["", *(change["region_code"] for change in alert.changes)]
        previews = []
        for language, _name in settings.LANGUAGES:
            for region_code in readers:
                fit = renderer.sms_fit(language=language, region_code=region_code)
                previews.append(
                    SmsPreview(
                        language=language,
                        region_code=region_code,
                        text=fit.text,
                        segments=fit.segments,
                        left_out=fit.left_out,
                    )
                )
        return previews


def _ledger_rows_counted(alert: Alert) -> RecipientCounts:
    rows_sql, params = ledger_rows_sql(alert)
    by_channel: dict[str, int] = defaultdict(int)
    by_region: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_language: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT region_code, language, channel, COUNT(*) FROM ({rows_sql}) AS candidate "  # noqa: S608
            "GROUP BY region_code, language, channel",
            params,
        )
        for region_code, language, channel, n in cursor.fetchall():
            by_channel[channel] += n
            by_region[region_code][channel] += n
            by_language[language][channel] += n
        # A person has one region and one language across their rows: these add up.
        cursor.execute(
            f"SELECT region_code, language, COUNT(DISTINCT citizen_id) "  # noqa: S608
            f"FROM ({rows_sql}) AS candidate GROUP BY region_code, language",
            params,
        )
        for region_code, language, n in cursor.fetchall():
            by_region[region_code]["people"] += n
            by_language[language]["people"] += n
    return RecipientCounts(
        people=sum(counts["people"] for counts in by_region.values()),
        messages=sum(by_channel.values()),
        by_channel=dict(sorted(by_channel.items())),
        by_region={code: dict(counts) for code, counts in sorted(by_region.items())},
        by_language={code: dict(counts) for code, counts in sorted(by_language.items())},
    )


# The statuses of a delivery that reached its provider (a person is reached when one of their
# messages did) and those that did not and will not by themselves.
REACHED_STATUSES = (Delivery.Status.SENT, Delivery.Status.DELIVERED)
UNREACHED_STATUSES = (Delivery.Status.FAILED, Delivery.Status.BOUNCED, Delivery.Status.AMBIGUOUS)


def alert_people_reached(*, alert_id: uuid.UUID | str) -> int:
    """The people at least one of whose messages of the alert reached its provider."""
    return (
        Delivery.objects.filter(alert_id=alert_id, status__in=REACHED_STATUSES)
        .values("citizen_id")
        .distinct()
        .count()
    )


@dataclass(frozen=True)
class FailureGroup:
    channel: str
    status: str
    code: str
    reason: str  # one of the group's reasons, as the provider worded it
    count: int


def alert_failures(*, alert_id: uuid.UUID | str) -> list[FailureGroup]:
    """The alert's messages that did not get through, grouped by channel, status and the
    provider's error code, most frequent first (one grouped query)."""
    rows = (
        Delivery.objects.filter(alert_id=alert_id, status__in=UNREACHED_STATUSES)
        .values_list("channel", "status", "error_code")
        .annotate(reason=Max("error_reason"), n=Count("id"))
        .order_by("-n", "channel", "error_code")
    )
    return [
        FailureGroup(channel=channel, status=status, code=code, reason=reason or "", count=n)
        for channel, status, code, reason, n in rows
    ]


def alert_unreached_citizen_ids(*, alert_id: uuid.UUID | str, limit: int = 500) -> list[uuid.UUID]:
    """The people none of whose messages of the alert got through and one of which failed:
    those staff phone. At most `limit`, by id."""
    reached = Delivery.objects.filter(alert_id=alert_id, status__in=REACHED_STATUSES).values(
        "citizen_id"
    )
    return list(
        Delivery.objects.filter(
            alert_id=alert_id, status__in=UNREACHED_STATUSES, citizen_id__isnull=False
        )
        .exclude(citizen_id__in=reached)
        .values_list("citizen_id", flat=True)
        .distinct()
        .order_by("citizen_id")[:limit]
    )


def alert_sent_per_minute(*, alert_id: uuid.UUID | str) -> list[tuple[datetime.datetime, int]]:
    """How many of the alert's messages were handed off each minute, in order (one query)."""
    return list(
        Delivery.objects.filter(alert_id=alert_id, sent_at__isnull=False)
        .annotate(minute=TruncMinute("sent_at"))
        .values_list("minute")
        .annotate(n=Count("id"))
        .order_by("minute")
    )
