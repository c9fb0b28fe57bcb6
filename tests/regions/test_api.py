import pytest

pytestmark = pytest.mark.usefixtures("geography")


def test_countries_list_is_public(api_client):
    response = api_client.get("/api/v1/countries/")

    assert response.status_code == 200
    assert {"code": "ML", "alpha3": "MLI", "name": "Mali"} in response.json()


def test_country_detail_lists_regions_in_english(api_client, django_assert_num_queries):
    with django_assert_num_queries(2):
        response = api_client.get("/api/v1/countries/ML/")

    assert response.status_code == 200
    regions = response.json()["regions"]
    assert len(regions) == 11
    gao = next(region for region in regions if region["code"] == "ML-7")
    assert gao | {"name": "Gao", "type": "Region", "parent": None} == gao


def test_country_detail_speaks_french_when_asked(api_client):
    response = api_client.get("/api/v1/countries/lb/", headers={"Accept-Language": "fr"})

    assert response.status_code == 200
    assert response.json()["name"] == "Liban"


def test_nested_region_names_its_parent(api_client):
    response = api_client.get("/api/v1/countries/FR/")

    regions = {region["code"]: region for region in response.json()["regions"]}
    assert regions["FR-75C"]["parent"] == "FR-IDF"


def test_unknown_country_answers_404_in_one_shape(api_client):
    response = api_client.get("/api/v1/countries/ZZ/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
