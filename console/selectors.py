"""What a country's console shows, read through the other apps' selectors in a fixed number
of queries whatever the number of regions, people, alerts or answers."""

import datetime
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.selectors import REGISTER_ROLES, country_codes_of_user
from advisories.levels import effective_levels
from advisories.models import Advisory
from advisories.publication import VersionDiff, version_diff
from advisories.selectors import advisories_awaiting_approval, advisory_current
from cases.models import SafetyCheck
from cases.selectors import (
    Board,
    CaseStatusCount,
    case_counts_by_status,
    check_boards,
    checks_open_in_country,
)
from console.maps import RegionMap, RegionRow, region_map
from notifications.selectors import alerts_counts, alerts_for_staff
from regions.models import Region
from regions.selectors import countries_with_codes, country_get, regions_of_country
from registrations.selectors import presence_stats, presence_unreachable_counts

# The register moves slowly beside a crisis: its counts by region (scans of every presence
# in the country, most of the console's time at 100,000 people) are kept this long, so a
# crisis cell refreshing the console pays them once a minute. The page says when they were
# counted; alerts, checks and cases stay live.
REGISTER_COUNTS_SECONDS = 60
# How far back the console lists alerts: the crisis at hand, not the archive.
ALERT_DAYS = 7
ALERT_LIMIT = 20
# The statuses of a delivery that are over, well or not (the rest is still on its way).
HANDED_OFF = ("sent", "delivered")
NOT_DELIVERED = ("failed", "bounced", "ambiguous")
WAITING = ("pending", "sending")


@dataclass(frozen=True)
class AlertLine:
    id: str
    kind: str
    state: str
    state_label: str
    created_at: datetime.datetime
    people: int
    messages: int
    handed_off: int
    not_delivered: int
    waiting: int
    changes: list[str]


@dataclass(frozen=True)
class CheckLine:
    id: str
    code: str
    regions: list[str]
    deadline: datetime.datetime
    asked: int
    safe: int
    needs_help: int
    no_response: int
    pending: int

    @property
    def answered(self) -> int:
        return self.safe + self.needs_help

    @property
    def answered_percent(self) -> int:
        return round(100 * self.answered / self.asked) if self.asked else 0


@dataclass(frozen=True)
class CountryConsole:
    code: str
    name: str
    regions: list[RegionRow]
    map: RegionMap
    level: int | None
    posture: str
    published_at: datetime.datetime | None
    change_note: str
    advisory_id: str | None
    # What the current version's publication changed over the one before it.
    diff: VersionDiff | None = None
    waiting: list[Advisory] = field(default_factory=list)
    alerts: list[AlertLine] = field(default_factory=list)
    checks: list[CheckLine] = field(default_factory=list)
    cases: list[CaseStatusCount] = field(default_factory=list)
    counted_at: datetime.datetime | None = None

    @property
    def citizens(self) -> int:
        return sum(row.citizens for row in self.regions)

    @property
    def people(self) -> int:
        return sum(row.people for row in self.regions)


def console_country_codes(*, user: User) -> list[str]:
    """The countries whose console the user may open: those their posts cover, where they
    are consular staff (officers, post administrators)."""
    return sorted(country_codes_of_user(user=user, roles=REGISTER_ROLES))


def console_countries(*, user: User) -> list[tuple[str, str]]:
    """(code, name) of those countries, by name in the active language."""
    countries = countries_with_codes(codes=console_country_codes(user=user))
    return sorted(((country.code, country.name) for country in countries), key=lambda c: c[1])


@dataclass(frozen=True)
class RegisterCounts:
    """Citizens, people with households and citizens nobody can write to, by region code
    (None: no region given); counts only, nothing about a person."""

    counted_at: datetime.datetime
    present: list[tuple[str | None, int, int]]
    unreachable: dict[str | None, int]


def register_counts_key(*, country_code: str) -> str:
    return f"console:register:{country_code}:{timezone.localdate().isoformat()}"


def register_counts(*, country_code: str) -> RegisterCounts:
    """The register's counts for the country's console, computed at most once a
    REGISTER_COUNTS_SECONDS per country and day (two queries when they are)."""
    today = timezone.localdate()
    key = register_counts_key(country_code=country_code)
    found: RegisterCounts | None = cache.get(key)
    if found is None:
        found = RegisterCounts(
            counted_at=timezone.now(),
            present=[
                (stat.region_code, stat.citizens, stat.people)
                for stat in presence_stats(country_code=country_code, on_date=today)
            ],
            unreachable=presence_unreachable_counts(country_code=country_code, on_date=today),
        )
        cache.set(key, found, REGISTER_COUNTS_SECONDS)
    return found


def _region_rows(
    register: RegisterCounts,
    regions: list[Region],
    levels: dict[str, int],
    country_level: int | None,
    boards: list[Board],
) -> list[RegionRow]:
    """One row per first-level region, counting the people of its subdivisions with it, and
    a last row for the people whose presence names no region (when there are any); with the
    open checks' answers and the people nobody can write to, for the map's layers."""
    parent_of = {region.code: region.parent_id for region in regions}

    def top(code: str | None) -> str:
        if not code:
            return ""
        while parent_of.get(code):
            code = parent_of[code] or code
        return code

    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for region_code, citizens, people in register.present:
        counts[top(region_code)].update(citizens=citizens, people=people)
    for code, unreachable in register.unreachable.items():
        counts[top(code)].update(unreachable=unreachable)
    for board in boards:
        for code, tallies in board.regions.items():
            counts[top(code)].update(
                asked=sum(tally.citizens for tally in tallies.values()),
                answered=tallies["safe"].citizens + tallies["needs_help"].citizens,
                needs_help=tallies["needs_help"].citizens,
            )

    def row(code: str, name: str, level: int | None) -> RegionRow:
        found = counts.get(code, Counter())
        return RegionRow(
            code=code,
            name=name,
            level=level,
            citizens=found["citizens"],
            people=found["people"],
            unreachable=found["unreachable"],
            asked=found["asked"],
            answered=found["answered"],
            needs_help=found["needs_help"],
        )

    rows = [
        row(region.code, region.name, levels.get(region.code, country_level))
        for region in regions
        if region.parent_id is None
    ]
    if "" in counts:
        rows.append(row("", _("No region given"), country_level))
    return rows


def _alert_lines(user: User, country_code: str, names: dict[str, str]) -> list[AlertLine]:
    since = timezone.now() - datetime.timedelta(days=ALERT_DAYS)
    alerts = list(
        alerts_for_staff(user=user, with_deliveries=True)
        .filter(country_id=country_code, created_at__gte=since)
        .order_by("-created_at")[:ALERT_LIMIT]
    )
    counts = alerts_counts(alert_ids=[alert.id for alert in alerts])
    lines = []
    for alert in alerts:
        by_status: dict[str, int] = {}
        for channel_counts in counts.get(str(alert.id), {}).values():
            for status, n in channel_counts.items():
                by_status[status] = by_status.get(status, 0) + n
        lines.append(
            AlertLine(
                id=str(alert.id),
                kind=alert.get_kind_display(),
                state=alert.state,
                state_label=alert.get_state_display(),
                created_at=alert.created_at,
                people=alert.people,
                messages=alert.messages,
                handed_off=sum(by_status.get(status, 0) for status in HANDED_OFF),
                not_delivered=sum(by_status.get(status, 0) for status in NOT_DELIVERED),
                waiting=sum(by_status.get(status, 0) for status in WAITING),
                changes=[change_line(change, names) for change in alert.changes],
            )
        )
    return lines


def change_line(change: dict[str, object], names: dict[str, str]) -> str:
    """A change of an alert in words: "Gao: level 3 to 4" ("Gao: level 3" for a first
    publication, which had no level before)."""
    values = {
        "region": names.get(str(change.get("region_code", "")), _("a region")),
        "old": change.get("old_level"),
        "new": change.get("new_level"),
    }
    if values["old"] is None:
        return _("%(region)s: level %(new)s") % values
    return _("%(region)s: level %(old)s to %(new)s") % values


def _check_lines(
    checks: list[SafetyCheck], boards: dict[uuid.UUID, Board], names: dict[str, str]
) -> list[CheckLine]:
    lines = []
    for check in checks:
        totals = boards[check.id].totals
        lines.append(
            CheckLine(
                id=str(check.id),
                code=check.code,
                regions=[names.get(code, code) for code in check.region_codes],
                deadline=check.deadline,
                asked=sum(tally.citizens for tally in totals.values()),
                safe=totals["safe"].citizens,
                needs_help=totals["needs_help"].citizens,
                no_response=totals["no_response"].citizens,
                pending=totals["pending"].citizens,
            )
        )
    return lines


def country_console(*, user: User, country_code: str) -> CountryConsole | None:
    """The console of a country the user works on; None when their posts do not cover it
    (or they hold no consular role there), so the page is a 404."""
    code = country_code.upper()
    if code not in console_country_codes(user=user):
        return None
    country = country_get(code=code)
    if country is None:
        return None
    regions = list(regions_of_country(country_code=code))
    names = {region.code: region.name for region in regions}
    current = advisory_current(country_code=code)
    levels: dict[str, int] = {}
    if current is not None:
        levels = effective_levels(
            country_level=current.country_level,
            overrides={override.region_id: override.level for override in current.overrides.all()},
            parents=[(region.code, region.parent_id) for region in regions],
        )
    checks = list(checks_open_in_country(user=user, country_code=code))
    boards = check_boards(check_ids=[check.id for check in checks])
    register = register_counts(country_code=code)
    rows = _region_rows(
        register,
        regions,
        levels,
        current.country_level if current else None,
        list(boards.values()),
    )
    return CountryConsole(
        code=code,
        name=country.name,
        regions=rows,
        map=region_map(rows, country_code=code),
        level=current.country_level if current else None,
        posture=current.get_posture_display() if current else "",
        published_at=current.published_at if current else None,
        change_note=(
            current.change_note_fr
            if _french() and current.change_note_fr
            else current.change_note_en
        )
        if current
        else "",
        advisory_id=str(current.id) if current else None,
        diff=version_diff(advisory=current, language=get_language() or "en") if current else None,
        waiting=list(advisories_awaiting_approval(country_code=code)),
        alerts=_alert_lines(user, code, names),
        checks=_check_lines(checks, boards, names),
        cases=case_counts_by_status(user=user, country_code=code),
        counted_at=register.counted_at,
    )


def _french() -> bool:
    return (get_language() or "en").startswith("fr")
