"""Reads of the geography. The apps above reach countries and regions through these only, and
annotate what they return with what they know of a place (an advisory's level)."""

from collections.abc import Collection
from typing import Final

from django.db.models import QuerySet

from regions.models import Country, Region


def countries_all() -> QuerySet[Country]:
    """Every country, for a list of choices or for the apps above to annotate (a level)."""
    return Country.objects.all()


def countries_with_codes(*, codes: Collection[str]) -> QuerySet[Country]:
    """The countries named by their (upper-case) codes, such as those a staff member covers."""
    return Country.objects.filter(code__in=codes)


def country_get(*, code: str) -> Country | None:
    return Country.objects.filter(code=code.upper()).first()


# What a registration validates on every request, kept per process once found: an ISO code
# names the same country, and a region code the same country, for good (a presence's CHECK
# refuses a region outside its country). Only answers found are kept, so a place loaded later
# is found at once; one removed later is refused by the presence's foreign key instead.
_KNOWN_COUNTRIES: Final[set[str]] = set()
_REGION_COUNTRIES: Final[dict[str, str]] = {}


def places_forget() -> None:
    """Forget the places kept by `country_exists` and `region_country_code` (tests whose
    database loses the geography between them)."""
    _KNOWN_COUNTRIES.clear()
    _REGION_COUNTRIES.clear()


def country_exists(*, code: str) -> bool:
    """Whether the code names a country, for validating input without loading the row."""
    code = code.upper()
    if code in _KNOWN_COUNTRIES:
        return True
    if not Country.objects.filter(code=code).exists():
        return False
    _KNOWN_COUNTRIES.add(code)
    return True


def regions_all() -> QuerySet[Region]:
    """Every region, for the apps above to annotate (an advisory's override) and prefetch."""
    return Region.objects.all()


def regions_of_country(*, country_code: str) -> QuerySet[Region]:
    return Region.objects.filter(country_id=country_code.upper()).order_by("code")


def regions_top_level(*, country_codes: Collection[str]) -> QuerySet[Region]:
    """The countries' first-level subdivisions (those without a parent), by code."""
    return Region.objects.filter(country_id__in=country_codes, parent__isnull=True).order_by("code")


def region_codes_of_country(*, country_code: str) -> set[str]:
    return set(regions_of_country(country_code=country_code).values_list("code", flat=True))


def regions_of_countries(*, country_codes: Collection[str]) -> QuerySet[Region]:
    return Region.objects.filter(country_id__in=[code.upper() for code in country_codes]).order_by(
        "code"
    )


def region_names(*, codes: Collection[str]) -> dict[str, str]:
    """Each region's name in the active language, by code."""
    regions = Region.objects.filter(code__in=list(codes)).only("code", "name_en", "name_fr")
    return {region.code: region.name for region in regions}


def region_country_code(*, region_code: str) -> str | None:
    """The code of the country the region is in; None when no region has that code."""
    region_code = region_code.upper()
    if (known := _REGION_COUNTRIES.get(region_code)) is not None:
        return known
    country: str | None = (
        Region.objects.filter(code=region_code).values_list("country_id", flat=True).first()
    )
    if country is not None:
        _REGION_COUNTRIES[region_code] = country
    return country
