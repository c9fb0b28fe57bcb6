import pytest
from django.utils import translation

from regions.models import Region
from regions.selectors import (
    countries_all,
    countries_with_codes,
    country_exists,
    region_country_code,
    region_names,
    regions_all,
    regions_of_countries,
    regions_top_level,
)

pytestmark = pytest.mark.usefixtures("geography")


def test_countries_all_and_regions_all_are_the_whole_geography():
    assert {country.code for country in countries_all()} == {"ML", "LB", "FR"}
    assert {"ML-BKO", "LB-BA", "FR-IDF", "FR-75C"} <= {region.code for region in regions_all()}


def test_countries_with_codes_keeps_to_the_codes():
    assert {country.code for country in countries_with_codes(codes={"ML", "LB"})} == {"ML", "LB"}
    assert list(countries_with_codes(codes=set())) == []


def test_country_exists_whatever_the_case():
    assert country_exists(code="ml")
    assert not country_exists(code="ZZ")


def test_regions_top_level_leaves_out_nested_subdivisions():
    codes = list(regions_top_level(country_codes=["FR", "LB"]).values_list("code", flat=True))

    assert codes == sorted(codes)
    assert "FR-IDF" in codes
    assert "LB-BA" in codes
    assert "FR-75C" not in codes  # Paris, inside Ile-de-France
    assert not any(code.startswith("ML-") for code in codes)


def test_region_country_code_names_the_country_or_none():
    assert region_country_code(region_code="fr-75c") == "FR"
    assert region_country_code(region_code="ML-BKO") == "ML"
    assert region_country_code(region_code="ML-99") is None


def test_places_found_are_kept_and_places_not_found_asked_again(django_assert_num_queries):
    # Every registration validates its place: once found, the answer needs no query.
    with django_assert_num_queries(2):
        assert region_country_code(region_code="ML-BKO") == "ML"
        assert country_exists(code="LB")
    with django_assert_num_queries(0):
        assert region_country_code(region_code="ml-bko") == "ML"
        assert country_exists(code="lb")
    # A place not found (perhaps loaded later) is asked for every time.
    with django_assert_num_queries(2):
        assert region_country_code(region_code="ML-99") is None
        assert region_country_code(region_code="ML-99") is None


def test_regions_of_countries_keep_to_the_countries_named():
    codes = [region.code for region in regions_of_countries(country_codes={"ml", "LB"})]

    assert codes == sorted(codes)
    assert {code.split("-")[0] for code in codes} == {"ML", "LB"}
    assert "ML-7" in codes


def test_region_names_are_in_the_active_language():
    Region.objects.filter(code="ML-7").update(name_en="Gao", name_fr="Gao (fr)")
    with translation.override("en"):
        english = region_names(codes={"FR-IDF", "ML-7"})
    with translation.override("fr"):
        french = region_names(codes={"FR-IDF", "ML-7"})

    assert set(english) == {"FR-IDF", "ML-7"}
    assert (english["ML-7"], french["ML-7"]) == ("Gao", "Gao (fr)")
