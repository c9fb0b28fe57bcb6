from django.db.models import QuerySet

from regions.models import Country, Region


def country_get(*, code: str) -> Country | None:
    return Country.objects.filter(code=code.upper()).first()


def regions_of_country(*, country_code: str) -> QuerySet[Region]:
    return Region.objects.filter(country_id=country_code.upper()).order_by("code")


def region_codes_of_country(*, country_code: str) -> set[str]:
    return set(regions_of_country(country_code=country_code).values_list("code", flat=True))
