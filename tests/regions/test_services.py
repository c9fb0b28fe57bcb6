import pytest

from regions.models import Country, Region
from regions.services import geography_load

pytestmark = pytest.mark.django_db

MALI_REGIONS = {f"ML-{n}" for n in range(1, 11)} | {"ML-BKO"}


def test_load_geography_gives_mali_exactly_its_eleven_regions():
    geography_load(country_codes={"ML"})

    assert set(Region.objects.filter(country="ML").values_list("code", flat=True)) == MALI_REGIONS


def test_load_geography_twice_changes_nothing():
    first = geography_load(country_codes={"ML", "LB"})
    names_before = list(Region.objects.values_list("code", "name_en", "name_fr"))

    second = geography_load(country_codes={"ML", "LB"})

    assert first == second
    assert list(Region.objects.values_list("code", "name_en", "name_fr")) == names_before
    assert Country.objects.count() == 2


def test_load_geography_keeps_french_names_and_nested_subdivisions():
    geography_load(country_codes={"FR", "LB"})

    assert Country.objects.get(code="LB").name_fr == "Liban"
    paris = Region.objects.get(code="FR-75C")
    assert paris.parent_id == "FR-IDF"


def test_load_geography_loads_every_country():
    loaded = geography_load()

    assert loaded.countries == Country.objects.count() >= 249
    assert loaded.regions == Region.objects.count() > 5000
