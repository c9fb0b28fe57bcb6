"""Reads of advisories for the pages, the API, the feeds and the apps above (alerts)."""

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Max, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.urls import reverse
from django.utils import translation

from accounts.models import User
from accounts.selectors import country_codes_of_user
from advisories.levels import effective_levels, governing_regions, level_colour, level_name
from advisories.models import Advisory, LevelChange, RegionOverride
from regions.models import Region
from regions.selectors import countries_all, region_names, regions_of_country

__all__ = [
    "AdvisoryDigest",
    "CountryLevel",
    "CurrentLevels",
    "PlaceAdvice",
    "RegionAdvice",
    "advice_current_for_place",
    "advisories_awaiting_approval",
    "advisories_of_staff",
    "advisories_public",
    "advisory_current",
    "advisory_digests",
    "advisory_history",
    "advisory_levels",
    "advisory_region_advice",
    "countries_with_levels",
    "current_level_subquery",
    "current_levels",
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


def advisories_awaiting_approval(*, country_code: str) -> QuerySet[Advisory]:
    """The country's versions submitted and not yet approved, oldest first: what a crisis
    console shows as waiting (level, author, when), never their texts."""
    return (
        Advisory.objects.filter(country_id=country_code.upper(), status=Advisory.Status.SUBMITTED)
        .select_related("submitted_by")
        .only("id", "country_id", "country_level", "posture", "submitted_at", "submitted_by")
        .order_by("submitted_at")
    )


def advisory_levels(*, advisory: Advisory) -> dict[str, int]:
    """Effective level of every region of the advisory's country under that version."""
    overrides = dict(advisory.overrides.values_list("region_id", "level"))
    parents = regions_of_country(country_code=advisory.country_id).values_list("code", "parent_id")
    return effective_levels(
        country_level=advisory.country_level, overrides=overrides, parents=parents
    )


@dataclass(frozen=True)
class RegionAdvice:
    """What a version tells the people of one region: its effective level and the note of the
    region level governing it (empty when none does)."""

    level: int
    note_en: str
    note_fr: str


def advisory_region_advice(*, advisory: Advisory) -> dict[str, RegionAdvice]:
    """The advice of every region of the advisory's country under that version, by the rule
    of effective levels: a nested subdivision follows its nearest ancestor with a level."""
    overrides = {override.region_id: override for override in advisory.overrides.all()}
    parents = list(
        regions_of_country(country_code=advisory.country_id).values_list("code", "parent_id")
    )
    governing = governing_regions(overridden=overrides.keys(), parents=parents)
    advice = {}
    for code, _parent in parents:
        override = overrides.get(governing.get(code, ""))
        advice[code] = (
            RegionAdvice(level=advisory.country_level, note_en="", note_fr="")
            if override is None
            else RegionAdvice(
                level=override.level, note_en=override.note_en, note_fr=override.note_fr
            )
        )
    return advice


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
    """What an alert message says about the advisory, in one language. `region_notes` holds
    the note of each region given a level, by region code; `region_levels` that level."""

    advisory_id: str
    country_code: str
    country_name: str
    country_level: int
    posture: str
    posture_label: str
    assistance_note: str
    summary: str
    instructions: str
    change_note: str
    public_url: str
    region_levels: Mapping[str, int]
    region_notes: Mapping[str, str]


def advisory_digests(*, advisory_id: str) -> dict[str, AdvisoryDigest]:
    """The digest in each language of the site (`settings.LANGUAGES`), from two queries."""
    advisory = (
        Advisory.objects.select_related("country").prefetch_related("overrides").get(id=advisory_id)
    )
    overrides = list(advisory.overrides.all())
    digests = {}
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            digests[language] = AdvisoryDigest(
                advisory_id=str(advisory.id),
                country_code=advisory.country_id,
                country_name=advisory.country.name,
                country_level=advisory.country_level,
                posture=advisory.posture,
                posture_label=str(advisory.get_posture_display()),
                assistance_note=advisory.localized("assistance_note", language),
                summary=advisory.localized("summary", language),
                instructions=advisory.localized("instructions", language),
                change_note=advisory.localized("change_note", language),
                public_url=settings.SITE_URL
                + reverse("advisories:country", kwargs={"code": advisory.country_id}),
                region_levels={override.region_id: override.level for override in overrides},
                region_notes={
                    override.region_id: override.localized("note", language)
                    for override in overrides
                },
            )
    return digests


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
    """The country's current version as it applies in the region (`advisory_region_advice`);
    without a region, the country as a whole. None when the country has no published
    version."""
    advisory = advisory_current(country_code=country_code)
    if advisory is None:
        return None
    region_advice = advisory_region_advice(advisory=advisory).get(region_code or "")
    with translation.override(language):
        if region_advice is None:
            place_name, level, note = advisory.country.name, advisory.country_level, ""
        else:
            place_name = region_names(codes=[region_code or ""])[region_code or ""]
            level = region_advice.level
            note = region_advice.note_fr if language.startswith("fr") else region_advice.note_en
            note = note or region_advice.note_en
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


# Who works on a country's advisories, and sees its versions before publication.
ADVISORY_STAFF_ROLES = ("editor", "approver", "admin")


def advisories_in_review(*, user: User) -> QuerySet[Advisory]:
    """The versions not yet published of the countries the user writes or approves for:
    drafts, those waiting for an approver, those approved and scheduled."""
    codes = country_codes_of_user(user=user, roles=ADVISORY_STAFF_ROLES)
    return (
        Advisory.objects.filter(
            country_id__in=codes,
            status__in=[
                Advisory.Status.DRAFT,
                Advisory.Status.SUBMITTED,
                Advisory.Status.SCHEDULED,
            ],
        )
        .select_related("country", "author", "submitted_by")
        .order_by("country_id", "-created_at")
    )


def advisory_of_staff(*, user: User, advisory_id: str) -> Advisory | None:
    """One version of a country the user writes or approves for, whatever its state."""
    codes = country_codes_of_user(user=user, roles=ADVISORY_STAFF_ROLES)
    return (
        Advisory.objects.filter(pk=advisory_id, country_id__in=codes)
        .select_related("country", "author", "submitted_by", "approved_by")
        .prefetch_related("overrides")
        .first()
    )


@dataclass(frozen=True)
class CurrentLevels:
    """A country's current version in two numbers: its country level, and the highest level
    it gives anywhere (the country level or a region's)."""

    country_level: int
    highest_level: int


def current_levels(*, country_codes: Collection[str]) -> dict[str, CurrentLevels]:
    """The current levels of the countries that have a published version, in one query; a
    country without one is absent."""
    rows = (
        Advisory.objects.filter(
            country_id__in=[code.upper() for code in country_codes],
            status=Advisory.Status.PUBLISHED,
        )
        .annotate(highest_override=Max("overrides__level"))
        .values_list("country_id", "country_level", "highest_override")
    )
    return {
        code: CurrentLevels(country_level=level, highest_level=max(level, highest or level))
        for code, level, highest in rows
    }
