from collections.abc import Collection

from django.db.models import QuerySet

from regions.models import Country, Region


def country_get(*, code: str) -> Country | None:
    return Country.objects.filter(code=code.upper()).first()


def regions_of_country(*, country_code: str) -> QuerySet[Region]:
    return Region.objects.filter(country_id=country_code.upper()).order_by("code")


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
