"""What a started safety check's board shows: the share of the people asked who answered, by
region and over time, and how the question's messages are going. A fixed number of grouped
queries, whatever the number of people and regions (the page polls it while the check is
open)."""

import datetime
from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef
from django.db.models.functions import Trunc
from django.utils import timezone
from django.utils.translation import gettext_lazy

from cases.models import SafetyCheck, SafetyResponse
from cases.selectors import Tally, check_board
from core.charts import STATUS_ORDER, Segment, ShareChart, share_over_time, stacked_bar
from notifications.models import Channel, Delivery
from notifications.selectors import alerts_counts, deliveries_of_alert
from regions.selectors import region_names

ANSWERED = (SafetyResponse.Status.SAFE, SafetyResponse.Status.NEEDS_HELP)
NOWHERE = gettext_lazy("Somewhere in the country (no region given)")
UNLISTED = gettext_lazy("A region no longer listed")


@dataclass(frozen=True)
class RegionLine:
    code: str
    name: str
    tallies: dict[str, Tally]
    asked: int
    answered: int
    percent: int


@dataclass(frozen=True)
class DeliveryBar:
    channel: str
    label: str
    total: int
    segments: list[Segment]


@dataclass(frozen=True)
class CheckProgress:
    check_id: str
    live: bool
    asked: int
    answered: int
    percent: int
    # The columns of the regions' table: each answer's status and its name.
    statuses: list[tuple[str, str]]
    totals: dict[str, Tally]
    regions: list[RegionLine]
    chart: ShareChart
    delivery: list[DeliveryBar]
    # People asked to whom no message could be written: no verified address on the
    # channels the check uses. They are counted on the board and are the first to phone.
    no_channel: int


def _percent(part: int, whole: int) -> int:
    return round(100 * part / whole) if whole else 0


def region_label(code: str, names: dict[str, str]) -> str:
    """A region's name for the board, in words even when the answer gave none."""
    if not code:
        return str(NOWHERE)
    return names.get(code) or str(UNLISTED)


def _answers_over_time(
    check: SafetyCheck, start: datetime.datetime, end: datetime.datetime
) -> list[tuple[datetime.datetime, int]]:
    # Minutes for the first hours, then hours, then days: at most a few hundred rows.
    span = end - start
    kind = (
        "minute"
        if span <= datetime.timedelta(hours=3)
        else "hour"
        if span <= datetime.timedelta(days=7)
        else "day"
    )
    return list(
        SafetyResponse.objects.filter(
            safety_check_id=check.id, status__in=ANSWERED, answered_at__isnull=False
        )
        .annotate(at=Trunc("answered_at", kind))
        .values_list("at")
        .annotate(n=Count("id"))
        .order_by("at")
    )


def _delivery(check: SafetyCheck) -> list[DeliveryBar]:
    alert_ids = [str(id_) for id_ in (check.question_alert_id, check.reminder_alert_id) if id_]
    by_channel: dict[str, dict[str, int]] = {}
    for counts in alerts_counts(alert_ids=alert_ids).values():
        for channel, by_status in counts.items():
            merged = by_channel.setdefault(channel, {})
            for status, n in by_status.items():
                merged[status] = merged.get(status, 0) + n
    labels = {str(value): str(label) for value, label in Delivery.Status.choices}
    channels = dict(Channel.choices)
    return [
        DeliveryBar(
            channel=channel,
            label=str(channels.get(channel, channel)),
            total=sum(counts.values()),
            segments=stacked_bar(counts, labels),
        )
        for channel, counts in sorted(by_channel.items())
        if any(status in STATUS_ORDER for status in counts)
    ]


def _no_channel(check: SafetyCheck) -> int:
    if check.question_alert_id is None:
        return 0
    written_to = deliveries_of_alert(alert_id=str(check.question_alert_id)).filter(
        citizen_id=OuterRef("citizen_id")
    )
    return (
        SafetyResponse.objects.filter(safety_check_id=check.id, citizen__isnull=False)
        .exclude(Exists(written_to))
        .count()
    )


def check_progress(*, check: SafetyCheck) -> CheckProgress:
    """The board of a started check (its regions' names read in the active language)."""
    board = check_board(check_id=check.id)
    # The check's regions where nobody was present are listed too, with nobody asked.
    tallies_by_region = {
        **{code: {status: Tally() for status in board.totals} for code in check.region_codes},
        **board.regions,
    }
    names = region_names(codes={code for code in tallies_by_region if code})
    regions = []
    for code, tallies in tallies_by_region.items():
        asked = sum(tally.citizens for tally in tallies.values())
        answered = sum(tallies[status].citizens for status in ANSWERED)
        regions.append(
            RegionLine(
                code=code,
                name=region_label(code, names),
                tallies=tallies,
                asked=asked,
                answered=answered,
                percent=_percent(answered, asked),
            )
        )
    # The people with no region given read last, after the named regions.
    regions.sort(key=lambda line: (not line.code, line.name))
    asked = sum(tally.citizens for tally in board.totals.values())
    answered = sum(board.totals[status].citizens for status in ANSWERED)
    start = check.started_at or check.created_at
    end = check.closed_at or max(timezone.now(), start)
    return CheckProgress(
        check_id=str(check.id),
        live=check.status == SafetyCheck.Status.OPEN,
        asked=asked,
        answered=answered,
        percent=_percent(answered, asked),
        statuses=[(str(value), str(label)) for value, label in SafetyResponse.Status.choices],
        totals=board.totals,
        regions=regions,
        chart=share_over_time(
            _answers_over_time(check, start, end), total=asked, start=start, end=end
        ),
        delivery=_delivery(check),
        no_channel=_no_channel(check),
    )
