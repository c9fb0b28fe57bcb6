import threading

import pytest
from django.db import DatabaseError, connection, transaction

from regions.models import Country, Region
from regions.services import country_lock, geography_load

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


def _from_another_connection(sql: str) -> BaseException | None:
    """Run the statement in a transaction of its own, on another connection; what it raised."""
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql)
            outcome.append(None)
        except BaseException as error:  # noqa: BLE001 - reported to the test thread
            outcome.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=30)
    return outcome[0]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_country_lock_excludes_other_lockers_but_not_foreign_key_checks(geography):
    with transaction.atomic():
        country_lock(code="ML")

        locker = _from_another_connection(
            "SELECT 1 FROM regions_country WHERE code = 'ML' FOR NO KEY UPDATE NOWAIT"
        )
        key_check = _from_another_connection(
            "SELECT 1 FROM regions_country WHERE code = 'ML' FOR KEY SHARE NOWAIT"
        )

    assert isinstance(locker, DatabaseError)
    assert key_check is None


def test_country_lock_of_an_unknown_country_raises(geography):
    with pytest.raises(Country.DoesNotExist), transaction.atomic():
        country_lock(code="ZZ")
