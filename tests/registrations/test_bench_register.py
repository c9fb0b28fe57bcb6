"""The benchmark's register of a million is written by PostgreSQL, not by the ORM: its rows
must still be what the register writes, or the run would measure another table."""

import pytest

from bench import seed
from registrations import selectors
from registrations.models import Citizen

pytestmark = pytest.mark.usefixtures("geography")


def test_filler_citizens_read_back_as_the_register_writes_them():
    added = seed.register_top_up(count=3)

    citizen = Citizen.objects.get(family_name="Citizen 2")
    assert added == 3
    # Decrypted with the register's key and binding, found by the register's keyed hash.
    assert citizen.email == f"filler2@{seed.FILLER_DOMAIN}"
    assert selectors.citizen_get_by_email(email=citizen.email) == citizen
    assert citizen.presences.get().region_id in seed.MALI_REGIONS


def test_filler_citizens_are_topped_up_to_the_count():
    seed.register_top_up(count=2)

    assert seed.register_top_up(count=2) == 0
    assert seed.register_top_up(count=4) == 2
    assert Citizen.objects.count() == 4
    assert Citizen.objects.filter(email_hash="").count() == 0
