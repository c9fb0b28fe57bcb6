"""Geography is reference data: it is loaded from pycountry's ISO 3166 tables, never edited."""

import gettext
from collections.abc import Collection
from dataclasses import dataclass

import pycountry
from django.db import transaction

from regions.models import Country, Region


@dataclass(frozen=True)
class GeographyLoaded:
    countries: int
    regions: int


@transaction.atomic
def geography_load(*, country_codes: Collection[str] | None = None) -> GeographyLoaded:
    """Insert or update the ISO 3166 countries (all, or those in `country_codes`) with their
    subdivisions; running it again changes nothing, so it is safe on every deploy."""
    countries_fr = gettext.translation(
        "iso3166-1", pycountry.LOCALES_DIR, languages=["fr"], fallback=True
    )
    regions_fr = gettext.translation(
        "iso3166-2", pycountry.LOCALES_DIR, languages=["fr"], fallback=True
    )
    countries = [
        Country(
            code=country.alpha_2,
            alpha3=country.alpha_3,
            name_en=getattr(country, "common_name", country.name),
            name_fr=countries_fr.gettext(country.name),
        )
        for country in pycountry.countries
        if country_codes is None or country.alpha_2 in country_codes
    ]
    Country.objects.bulk_create(
        countries,
        update_conflicts=True,
        unique_fields=["code"],
        update_fields=["alpha3", "name_en", "name_fr"],
        batch_size=500,
    )
    regions = [
        Region(
            code=subdivision.code,
            country_id=subdivision.country_code,
            parent_id=subdivision.parent_code,
            type=subdivision.type,
            name_en=subdivision.name,
            name_fr=regions_fr.gettext(subdivision.name),
        )
        for subdivision in pycountry.subdivisions
        if country_codes is None or subdivision.country_code in country_codes
    ]
    # Foreign keys are checked at commit, so a child may be written before its parent.
    Region.objects.bulk_create(
        regions,
        update_conflicts=True,
        unique_fields=["code"],
        update_fields=["country", "parent", "type", "name_en", "name_fr"],
        batch_size=500,
    )
    return GeographyLoaded(countries=len(countries), regions=len(regions))


def country_lock(*, code: str) -> None:
    """Lock the country's row until the caller's transaction ends (Django refuses the lock
    outside one), so that an app above can serialise its work on a country even when it has
    no row of its own to lock yet, as for a country's first advisory. FOR NO KEY UPDATE: rows
    naming the country are still written meanwhile, their key checks neither waiting for the
    lock nor making it wait."""
    Country.objects.select_for_update(no_key=True).get(code=code)
