"""What an alert's page shows: its people and messages by channel and status, the pace and
what is left, the failures by reason and the people to phone. Read through notifications'
and registrations' selectors; acting on the alert is notifications' services'."""

import math
import uuid
from dataclasses import dataclass

from django.conf import settings

from accounts.models import User
from console.selectors import change_line
from core.charts import ColumnChart, Segment, per_minute_chart, stacked_bar
from notifications.models import Alert, Channel, Delivery
from notifications.selectors import (
    FailureGroup,
    alert_failures,
    alert_people_reached,
    alert_progress,
    alert_sent_per_minute,
    alert_unreached_citizen_ids,
    alerts_for_staff,
)
from regions.selectors import region_names
from registrations.selectors import CitizenContact, citizen_contacts

LIVE_STATES = ("fanning_out", "sending")
FINISHED_STATES = ("done", "cancelled")
WAITING = ("pending", "sending")


@dataclass(frozen=True)
class ChannelBar:
    channel: str
    label: str
    total: int
    segments: list[Segment]
    remaining: int
    limit_per_s: int
    # At the channel's rate limit, the fastest it can go; None when nothing is left.
    eta_seconds: int | None


@dataclass(frozen=True)
class AlertProgressView:
    id: str
    state: str
    state_label: str
    live: bool
    people: int
    people_reached: int
    messages: int
    channels: list[ChannelBar]
    rate_per_s: float
    remaining: int
    eta_observed_seconds: int | None
    eta_limit_seconds: int | None
    failed: int
    chart: ColumnChart


@dataclass(frozen=True)
class FailureLine:
    channel: str
    status: str
    status_label: str
    code: str
    reason: str
    count: int


@dataclass(frozen=True)
class AlertPage:
    alert: Alert
    changes: list[str]
    regions: list[str]
    progress: AlertProgressView
    failures: list[FailureLine]
    to_phone: list[CitizenContact]
    can_resend: bool
    can_cancel: bool


def alert_for_console(*, user: User, alert_id: uuid.UUID | str) -> Alert | None:
    """An alert whose deliveries the user may read (consular staff of a post covering its
    country); None otherwise, so its pages are a 404."""
    return alerts_for_staff(user=user, with_deliveries=True).filter(id=alert_id).first()


def alert_progress_view(*, alert: Alert) -> AlertProgressView:
    progress = alert_progress(alert=alert)
    status_labels = {value: str(label) for value, label in Delivery.Status.choices}
    channel_labels = {value: str(label) for value, label in Channel.choices}
    limits: dict[str, int] = settings.ALERT_RATE_LIMITS
    channels = []
    for channel, counts in sorted(progress.counts.items()):
        remaining = sum(counts.get(status, 0) for status in WAITING)
        limit = limits.get(channel, 0)
        channels.append(
            ChannelBar(
                channel=channel,
                label=channel_labels.get(channel, channel),
                total=sum(counts.values()),
                segments=stacked_bar(counts, status_labels),
                remaining=remaining,
                limit_per_s=limit,
                eta_seconds=math.ceil(remaining / limit) if remaining and limit else None,
            )
        )
    etas = [bar.eta_seconds for bar in channels if bar.eta_seconds is not None]
    return AlertProgressView(
        id=str(alert.id),
        state=alert.state,
        state_label=alert.get_state_display(),
        live=alert.state in LIVE_STATES,
        people=progress.people,
        people_reached=alert_people_reached(alert_id=alert.id),
        messages=progress.messages,
        channels=channels,
        rate_per_s=progress.rate_per_s,
        remaining=progress.remaining,
        eta_observed_seconds=progress.eta_seconds if progress.remaining else None,
        # Channels send side by side: the slowest one finishes last.
        eta_limit_seconds=max(etas) if etas else None,
        failed=sum(counts.get("failed", 0) for counts in progress.counts.values()),
        chart=per_minute_chart(alert_sent_per_minute(alert_id=alert.id)),
    )


def _failure_line(group: FailureGroup) -> FailureLine:
    return FailureLine(
        channel=str(dict(Channel.choices).get(group.channel, group.channel)),
        status=group.status,
        status_label=str(dict(Delivery.Status.choices).get(group.status, group.status)),
        code=group.code,
        reason=group.reason,
        count=group.count,
    )


def people_to_phone(*, alert: Alert) -> list[CitizenContact]:
    """The people none of whose messages of the alert got through, with their verified phone
    number (empty without one), by name."""
    contacts = citizen_contacts(
        citizen_ids=alert_unreached_citizen_ids(alert_id=alert.id), channels=("sms",)
    )
    return sorted(contacts.values(), key=lambda contact: contact.given_name)


def alert_page(*, alert: Alert) -> AlertPage:
    progress = alert_progress_view(alert=alert)
    names = region_names(
        codes={*alert.region_codes, *(str(c.get("region_code", "")) for c in alert.changes)}
    )
    return AlertPage(
        alert=alert,
        changes=[change_line(change, names) for change in alert.changes],
        regions=[names.get(code, code) for code in alert.region_codes],
        progress=progress,
        failures=[_failure_line(group) for group in alert_failures(alert_id=alert.id)],
        to_phone=people_to_phone(alert=alert),
        can_resend=progress.failed > 0 and alert.state != "cancelled",
        can_cancel=alert.state not in FINISHED_STATES,
    )
