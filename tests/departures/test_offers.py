import datetime

import pytest
import time_machine
from django.utils import timezone

from core.exceptions import Conflict, NotFound
from departures.models import Offer
from departures.selectors import queue_of_operation
from departures.services import allocation, offers
from tests.departures.conftest import add_option, citizen, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def offered(operation, officer):
    option = add_option(operation, officer, capacity=10)
    person = citizen(household=1)
    submit(operation, person)
    allocation.allocation_run(
        operation=operation, run_by=officer, answer_within=datetime.timedelta(hours=2)
    )
    return option, person, Offer.objects.get()


def test_the_citizen_accepts_the_seats_offered(offered):
    option, person, offer = offered

    accepted = offers.offer_accept(offer_id=offer.id, citizen_id=person.id)

    assert accepted.state == "accepted"
    assert offers.offer_accept(offer_id=offer.id, citizen_id=person.id).state == "accepted"
    option.refresh_from_db()
    assert option.seats_taken == 2


def test_someone_never_offered_a_seat_cannot_accept_it(offered):
    _option, _person, offer = offered

    with pytest.raises(NotFound) as refused:
        offers.offer_accept(offer_id=offer.id, citizen_id=citizen().id)
    with pytest.raises(NotFound):
        offers.offer_accept(offer_id="not-an-id", citizen_id=citizen().id)

    assert refused.value.field == "offer"
    offer.refresh_from_db()
    assert offer.state == "offered"


def test_an_accept_after_the_deadline_is_refused(offered):
    _option, person, offer = offered

    with (
        time_machine.travel(timezone.now() + datetime.timedelta(hours=3)),
        pytest.raises(Conflict) as refused,
    ):
        offers.offer_accept(offer_id=offer.id, citizen_id=person.id)

    assert refused.value.code == "expired"
    offer.refresh_from_db()
    assert offer.state == "offered"


def test_a_decline_gives_the_seats_back_and_the_party_waits_again(offered, operation):
    option, person, offer = offered

    offers.offer_decline(offer_id=offer.id, citizen_id=person.id)

    option.refresh_from_db()
    assert option.seats_taken == 0
    assert queue_of_operation(operation=operation).count() == 1
    with pytest.raises(Conflict):
        offers.offer_accept(offer_id=offer.id, citizen_id=person.id)


def test_unanswered_offers_expire_and_their_seats_return(offered):
    option, _person, offer = offered

    assert offers.offers_expire() == 0
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=3)):
        assert offers.offers_expire() == 1
        assert offers.offers_expire() == 0

    offer.refresh_from_db()
    option.refresh_from_db()
    assert (offer.state, option.seats_taken) == ("expired", 0)


def test_an_offer_made_by_hand_on_a_full_option_is_refused(operation, officer):
    option = add_option(operation, officer, capacity=2)
    submit(operation, citizen(household=1))
    allocation.allocation_run(operation=operation, run_by=officer)
    walk_in = submit(operation, citizen())

    with pytest.raises(Conflict) as refused:
        offers.offer_make(intent=walk_in, option=option, made_by=officer)

    assert refused.value.code == "full"
    assert Offer.objects.filter(intent=walk_in).count() == 0
    bigger = add_option(operation, officer, capacity=1)
    assert offers.offer_make(intent=walk_in, option=bigger, made_by=officer).seats == 1


def test_the_expiry_task_expires_what_is_due_and_is_idempotent(offered):
    from departures.tasks import expire_seat_offers

    with time_machine.travel(timezone.now() + datetime.timedelta(hours=3)):
        assert expire_seat_offers() == {"expired": 1}
        assert expire_seat_offers() == {"expired": 0}
