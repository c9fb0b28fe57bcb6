import pytest
from django.utils import translation

from regions import selectors
from regions.models import Region

pytestmark = pytest.mark.usefixtures("geography")


def test_regions_of_countries_keep_to_the_countries_named():
    codes = [region.code for region in selectors.regions_of_countries(country_codes={"ml", "LB"})]

    assert codes == sorted(codes)
    assert {code.split("-")[0] for code in codes} == {"ML", "LB"}
    assert "ML-7" in codes


def test_region_names_are_in_the_active_language():
    Region.objects.filter(code="ML-7").update(name_en="Gao", name_fr="Gao (fr)")
    with translation.override("en"):
        english = selectors.region_names(codes={"FR-IDF", "ML-7"})
    with translation.override("fr"):
        french = selectors.region_names(codes={"FR-IDF", "ML-7"})

    assert set(english) == {"FR-IDF", "ML-7"}
    assert (english["ML-7"], french["ML-7"]) == ("Gao", "Gao (fr)")
