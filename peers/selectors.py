"""Reads of the partners' advice, side by side with ours, and of the sources' state: for the
staff pages, for other pages through `partner_levels` (and the template include
`peers/_partner_levels.html`), and for /healthz."""

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.models import User
from accounts.selectors import country_codes_of_user
from advisories.models import Advisory
from advisories.selectors import CurrentLevels, current_levels
from peers import sources
from peers.models import PartnerAdvice, SourceState
from peers.services import above_ours
from regions.selectors import countries_with_codes


@dataclass(frozen=True)
class SourceStatus:
    name: str
    title: str
    attribution: str
    enabled: bool
    last_success_at: datetime | None
    last_attempt_at: datetime | None
    last_error: str
    consecutive_failures: int
    next_attempt_at: datetime | None
    stale: bool


def _stale(state: SourceState | None, now: datetime) -> bool:
    """An enabled source is stale when its last attempt failed, or it has not succeeded
    within PEER_STALE_SECONDS (never, to begin with)."""
    if state is None or state.last_success_at is None or state.consecutive_failures:
        return True
    return state.last_success_at < now - timedelta(seconds=settings.PEER_STALE_SECONDS)


def sources_status(*, now: datetime | None = None) -> list[SourceStatus]:
    """Every source in the settings, on or off, with how its fetching goes (one query)."""
    now = now or timezone.now()
    states = {state.source: state for state in SourceState.objects.all()}
    statuses = []
    for name in sources.source_names():
        cls = sources.source_class(name)
        state = states.get(name)
        enabled = sources.source_enabled(name)
        statuses.append(
            SourceStatus(
                name=name,
                title=cls.title,
                attribution=cls.attribution,
                enabled=enabled,
                last_success_at=state.last_success_at if state else None,
                last_attempt_at=state.last_attempt_at if state else None,
                last_error=state.last_error if state else "",
                consecutive_failures=state.consecutive_failures if state else 0,
                next_attempt_at=state.next_attempt_at if state else None,
                stale=enabled and _stale(state, now),
            )
        )
    return statuses


@dataclass(frozen=True)
class PartnerLevel:
    source: str
    title: str
    level: int
    level_max: int
    label: str
    parts: bool
    has_regional_advice: bool
    key_risks: list[str]
    summary: str
    link: str
    source_date: datetime | None
    fetched_at: datetime
    # Compared with ours: above (a warning went or goes to the post), or below (shown only).
    above: bool
    below: bool
    stale: bool


@dataclass(frozen=True)
class CountryPartnerLevels:
    country_code: str
    country_name: str
    ours: CurrentLevels | None
    partners: list[PartnerLevel]

    @property
    def any_above(self) -> bool:
        return any(partner.above for partner in self.partners)


def partner_levels_of_countries(
    *, country_codes: Collection[str], statuses: list[SourceStatus] | None = None
) -> list[CountryPartnerLevels]:
    """Each country's partners' current levels next to ours, sorted by country name; four
    queries whatever the number of countries (three given the sources' `statuses`)."""
    codes = {code.upper() for code in country_codes}
    status = {s.name: s for s in (statuses if statuses is not None else sources_status())}
    ours = current_levels(country_codes=codes)
    by_country: dict[str, list[PartnerLevel]] = defaultdict(list)
    advice_rows = PartnerAdvice.objects.filter(country_id__in=codes).order_by("source")
    for advice in advice_rows:
        source = status.get(advice.source)
        if source is None:
            continue  # a source taken out of the settings: its rows are history
        our = ours.get(advice.country_id)
        reference = None
        if our is not None:
            reference = (
                our.highest_level
                if advice.scope == PartnerAdvice.Scope.PARTS
                else our.country_level
            )
        by_country[advice.country_id].append(
            PartnerLevel(
                source=advice.source,
                title=source.title,
                level=advice.level,
                level_max=advice.level_max,
                label=advice.label,
                parts=advice.scope == PartnerAdvice.Scope.PARTS,
                has_regional_advice=advice.has_regional_advice,
                key_risks=list(advice.key_risks),
                summary=advice.summary,
                link=advice.link,
                source_date=advice.source_updated_at or advice.source_published_at,
                fetched_at=advice.fetched_at,
                above=above_ours(advice=advice, ours=our),
                below=reference is not None and advice.level_max < reference,
                stale=source.stale,
            )
        )
    countries = countries_with_codes(codes=codes)
    return sorted(
        (
            CountryPartnerLevels(
                country_code=country.code,
                country_name=country.name,
                ours=ours.get(country.code),
                partners=by_country.get(country.code, []),
            )
            for country in countries
        ),
        key=lambda row: row.country_name,
    )


def partner_levels(
    *, country_code: str, statuses: list[SourceStatus] | None = None
) -> CountryPartnerLevels | None:
    """One country's partners next to ours; None for a country we do not know."""
    found = partner_levels_of_countries(country_codes=[country_code], statuses=statuses)
    return found[0] if found else None


def peer_country_codes_for_staff(*, user: User) -> set[str]:
    """The countries whose partner advice the staff member's pages list: those of their
    posts (any role; partner advice names no one), every country with advice for a
    superuser."""
    if user.is_superuser and user.is_active:
        return set(PartnerAdvice.objects.values_list("country_id", flat=True).distinct())
    return country_codes_of_user(user=user)


def peer_country_visible(*, user: User, country_code: str) -> bool:
    """Whether the staff member may open the country's page: a post of theirs covers it."""
    if user.is_superuser and user.is_active:
        return True
    return country_code.upper() in country_codes_of_user(user=user)


def partner_levels_panel(advisory: Advisory) -> str:
    """The partners' levels beside ours, as a section of an advisory version's review."""
    return render_to_string(
        "peers/_partner_levels.html",
        {"partner_levels": partner_levels(country_code=advisory.country_id)},
    )
