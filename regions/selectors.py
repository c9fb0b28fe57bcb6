"""Reads of the geography. The apps above reach countries and regions through these only, and
annotate what they return with what they know of a place (an advisory's level)."""

from collections.abc import Collection

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


def country_exists(*, code: str) -> bool:
    """Whether the code names a country, for validating input without loading the row."""
    return Country.objects.filter(code=code.upper()).exists()


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
    return (
        Region.objects.filter(code=region_code.upper()).values_list("country_id", flat=True).first()
    )
