"""Reads of advisories for the pages, the API, the feeds and the apps above (alerts)."""

from dataclasses import dataclass

from django.conf import settings
from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery
from django.urls import reverse
from django.utils import translation

from accounts.models import User
from accounts.selectors import country_codes_of_user
from advisories.levels import effective_levels, level_colour, level_name
from advisories.models import Advisory, LevelChange, RegionOverride
from regions.models import Region
from regions.selectors import countries_all, regions_of_country

__all__ = [
    "AdvisoryDigest",
    "CountryLevel",
    "PlaceAdvice",
    "advice_current_for_place",
    "advisories_of_staff",
    "advisories_public",
    "advisory_current",
    "advisory_digest",
    "advisory_history",
    "advisory_levels",
    "countries_with_levels",
    "current_level_subquery",
    "level_colour",
    "level_name",
    "region_level",
    "region_levels",
    "regions_with_levels",
]


def current_level_subquery(country_ref: str = "code") -> Subquery:
    """The country level of the current version, for annotating country querysets."""
    return Subquery(
        Advisory.objects.filter(
            country_id=OuterRef(country_ref), status=Advisory.Status.PUBLISHED
        ).values("country_level")[:1]
    )


def advisory_current(*, country_code: str) -> Advisory | None:
    """The country's current published version, with what its page shows already fetched."""
    return (
        Advisory.objects.filter(country_id=country_code.upper(), status=Advisory.Status.PUBLISHED)
        .select_related("country")
        .prefetch_related(
            Prefetch("overrides", queryset=RegionOverride.objects.select_related("region"))
        )
        .first()
    )


def advisory_levels(*, advisory: Advisory) -> dict[str, int]:
    """Effective level of every region of the advisory's country under that version."""
    overrides = dict(advisory.overrides.values_list("region_id", "level"))
    parents = regions_of_country(country_code=advisory.country_id).values_list("code", "parent_id")
    return effective_levels(
        country_level=advisory.country_level, overrides=overrides, parents=parents
    )


def region_levels(*, country_code: str) -> dict[str, int]:
    """Effective level of every region of the country under its current version; empty when
    the country has no published advisory."""
    current = Advisory.objects.filter(
        country_id=country_code.upper(), status=Advisory.Status.PUBLISHED
    ).first()
    return advisory_levels(advisory=current) if current else {}


def region_level(*, region_code: str) -> int | None:
    country_code = region_code.split("-", 1)[0].upper()
    return region_levels(country_code=country_code).get(region_code.upper())


@dataclass(frozen=True)
class CountryLevel:
    code: str
    name: str
    level: int | None  # None without a current advisory


def countries_with_levels() -> list[CountryLevel]:
    """Every country with its current level, sorted by its name in the active language."""
    countries = countries_all().annotate(level=current_level_subquery())
    return sorted(
        (CountryLevel(code=c.code, name=c.name, level=c.level) for c in countries),
        key=lambda country: country.name,
    )


def advisories_public() -> QuerySet[Advisory]:
    """Every version that has ever been published (current, superseded or withdrawn)."""
    return (
        Advisory.objects.filter(published_at__isnull=False)
        .select_related("country")
        .prefetch_related("overrides")
    )


def advisories_of_staff(*, user: User) -> QuerySet[Advisory]:
    """The public versions plus the unpublished ones of the countries the user works on."""
    codes = country_codes_of_user(user=user, roles=["editor", "approver", "admin"])
    return (
        Advisory.objects.filter(Q(published_at__isnull=False) | Q(country_id__in=codes))
        .select_related("country")
        .prefetch_related("overrides")
    )


def advisory_history(*, country_code: str) -> QuerySet[Advisory]:
    """A country's public versions, newest first, with what each changed."""
    return (
        advisories_public()
        .filter(country_id=country_code.upper())
        .select_related("approved_by", "author")
        .prefetch_related(
            Prefetch("level_changes", queryset=LevelChange.objects.select_related("region"))
        )
        .order_by("-published_at")
    )


@dataclass(frozen=True)
class AdvisoryDigest:
    """What an alert message says about the advisory, in one language."""

    advisory_id: str
    country_code: str
    country_name: str
    country_level: int
    posture_label: str
    assistance_note: str
    summary: str
    instructions: str
    public_url: str


def advisory_digest(*, advisory_id: str, language: str) -> AdvisoryDigest:
    advisory = Advisory.objects.select_related("country").get(id=advisory_id)
    with translation.override(language):
        return AdvisoryDigest(
            advisory_id=str(advisory.id),
            country_code=advisory.country_id,
            country_name=advisory.country.name,
            country_level=advisory.country_level,
            posture_label=str(advisory.get_posture_display()),
            assistance_note=advisory.localized("assistance_note", language),
            summary=advisory.localized("summary", language),
            instructions=advisory.localized("instructions", language),
            public_url=settings.SITE_URL
            + reverse("advisories:country", kwargs={"code": advisory.country_id}),
        )


@dataclass(frozen=True)
class PlaceAdvice:
    """The current advice where someone is, in one language (what an INFO reply says)."""

    place_name: str
    level: int
    level_name: str
    region_note: str
    instructions: str
    public_url: str


def advice_current_for_place(
    *, country_code: str, region_code: str | None, language: str
) -> PlaceAdvice | None:
    """The country's current version as it applies in the region: the level and note of the
    region's own override or of its nearest overridden ancestor's, else the country's. Without
    a region, the country as a whole. None when the country has no published version."""
    advisory = (
        Advisory.objects.filter(country_id=country_code.upper(), status=Advisory.Status.PUBLISHED)
        .select_related("country")
        .prefetch_related("overrides")
        .first()
    )
    if advisory is None:
        return None
    overrides = {override.region_id: override for override in advisory.overrides.all()}
    with translation.override(language):
        regions = {region.code: region for region in regions_of_country(country_code=country_code)}
        region = regions.get(region_code or "")
        place_name = region.name if region else advisory.country.name
        level, note = advisory.country_level, ""
        code = region.code if region else None
        while code is not None:
            if code in overrides:
                level, note = overrides[code].level, overrides[code].note
                break
            code = regions[code].parent_id if code in regions else None
        return PlaceAdvice(
            place_name=place_name,
            level=level,
            level_name=level_name(level=level, language=language),
            region_note=note,
            instructions=advisory.localized("instructions", language),
            public_url=settings.SITE_URL
            + reverse("advisories:country", kwargs={"code": advisory.country_id}),
        )


def regions_with_levels(*, advisory: Advisory) -> list[tuple[Region, int, RegionOverride | None]]:
    """The region table of a country page: each region, its effective level, its override."""
    regions = list(regions_of_country(country_code=advisory.country_id))
    overrides = {override.region_id: override for override in advisory.overrides.all()}
    levels = effective_levels(
        country_level=advisory.country_level,
        overrides={code: override.level for code, override in overrides.items()},
        parents=[(region.code, region.parent_id) for region in regions],
    )
    rows = [(region, levels[region.code], overrides.get(region.code)) for region in regions]
    # Citizens look for a name, not a code: alphabetical in the active language.
    return sorted(rows, key=lambda row: row[0].name)
