import threading

import pytest
from django.db import connection

from core.exceptions import Conflict
from departures.models import DepartureOption, Offer
from departures.services import offers
from tests.departures.conftest import add_option, citizen, submit

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(calls) -> tuple[list[object], list[BaseException]]:
    """Run the calls at once, each in a thread with its own database connection."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = []
    errors: list[BaseException] = []

    def run(call) -> None:
        try:
            barrier.wait()
            results.append(call())
        except BaseException as error:  # noqa: BLE001 - reported to the test thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, errors


def test_fifty_parties_taking_the_last_ten_seats_at_once_get_exactly_ten(operation, officer):
    option = add_option(operation, officer, capacity=10)
    parties = [submit(operation, citizen()) for _ in range(50)]

    taken, refused = race(
        [
            lambda intent=intent: offers.offer_make(intent=intent, option=option, made_by=officer)
            for intent in parties
        ]
    )

    assert len(taken) == 10
    assert len(refused) == 40
    assert all(isinstance(error, Conflict) and error.code == "full" for error in refused)
    option.refresh_from_db()
    assert option.seats_taken == 10
    assert Offer.objects.filter(option=option, state="offered").count() == 10


def test_fifty_accepts_for_the_last_ten_seats_at_once_accept_exactly_ten(operation, officer):
    # Ten seats offered to ten parties; forty others, never offered these seats, try the same
    # offers' ids at the same moment.
    option = add_option(operation, officer, capacity=10)
    offered = [citizen() for _ in range(10)]
    for person in offered:
        offers.offer_make(intent=submit(operation, person), option=option, made_by=officer)
    others = [citizen() for _ in range(40)]
    offer_ids = list(Offer.objects.order_by("created_at").values_list("id", flat=True))
    owners = {offer.id: offer.intent.citizen_id for offer in Offer.objects.select_related("intent")}
    calls = [
        lambda offer_id=offer_id: offers.offer_accept(
            offer_id=offer_id, citizen_id=owners[offer_id]
        )
        for offer_id in offer_ids
    ] + [
        lambda n=n: offers.offer_accept(offer_id=offer_ids[n % 10], citizen_id=others[n].id)
        for n in range(40)
    ]

    accepted, refused = race(calls)

    assert len(accepted) == 10
    assert len(refused) == 40
    assert Offer.objects.filter(state="accepted").count() == 10
    assert DepartureOption.objects.get(id=option.id).seats_taken == 10


def test_two_officers_boarding_the_same_person_at_once_write_one_record(
    operation, officer, second_officer
):
    from departures.models import Boarding
    from departures.services import boarding
    from tests.departures.test_boarding import accepted_party, open_presences

    person, option, _offer, (me, _daughter) = accepted_party(operation, officer)

    marked, errors = race(
        [
            lambda user=user: boarding.boarding_mark(
                option=option, traveller_id=me.id, state="boarded", marked_by=user
            )
            for user in (officer, second_officer, officer, second_officer)
        ]
    )

    assert errors == []
    assert len({row.id for row in marked}) == 1
    assert Boarding.objects.get().state == "boarded"
    assert open_presences(person) == []
