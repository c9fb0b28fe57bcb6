import datetime

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Membership
from core.exceptions import Conflict, PermissionDenied, ValidationFailed
from departures.models import DepartureOption, Intent, Offer
from departures.selectors import operation_board, queue_of_operation
from departures.services import allocation, intents, options
from tests.accounts.factories import staff_at
from tests.advisories.conftest import publish
from tests.departures.conftest import add_option, citizen, submit

pytestmark = pytest.mark.django_db


def offered_option(intent: Intent) -> DepartureOption | None:
    offer = Offer.objects.filter(intent=intent, state__in=Offer.LIVE_STATES).first()
    return offer.option if offer else None


def test_the_queue_serves_needs_then_children_then_elderly_then_level_4_then_arrival(
    operation, officer
):
    editor = staff_at("ML", Membership.Role.EDITOR, username="ml-editor")
    approver = staff_at("ML", Membership.Role.APPROVER, username="ml-approver")
    publish(country_code="ML", editor=editor, approver=approver, level=3, overrides=[("ML-7", 4)])
    first_come = submit(operation, citizen(), region_code="ML-1")
    level_4 = submit(operation, citizen(), region_code="ML-7")
    elderly = submit(operation, citizen(born=datetime.date(1940, 1, 1)), region_code="ML-1")
    children = submit(operation, citizen(), minors_alone=True, region_code="ML-1")
    medical = submit(operation, citizen(), needs_assistance=True, region_code="ML-1")

    queue = list(queue_of_operation(operation=operation))

    assert [intent.id for intent in queue] == [
        medical.id,
        children.id,
        elderly.id,
        level_4.id,
        first_come.id,
    ]
    assert [intent.priority for intent in queue] == [1, 2, 3, 4, 5]
    intents.intent_priority_set(intent=first_come, set_by=officer, group=1, reason="Surgery")
    assert next(iter(queue_of_operation(operation=operation))).id == first_come.id


def test_a_run_fills_the_options_in_order_and_never_splits_a_family(operation, officer):
    first = add_option(operation, officer, capacity=5)
    second = add_option(
        operation, officer, capacity=5, departs_at=timezone.now() + datetime.timedelta(days=3)
    )
    trio = submit(operation, citizen(household=2))  # 3 seats
    quartet = submit(operation, citizen(household=3))  # 4: not in what the first has left
    pair = submit(operation, citizen(household=1))  # 2: fills the first

    result = allocation.allocation_run(operation=operation, run_by=officer)

    assert (result.offers, result.people) == (3, 9)
    assert offered_option(trio) == first
    assert offered_option(quartet) == second
    assert offered_option(pair) == first
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.seats_taken, second.seats_taken) == (5, 4)
    board = operation_board(operation=operation)
    assert (board.offered_people, board.waiting_intents) == (9, 0)


def test_a_run_offers_nothing_twice_and_respects_the_earliest_date(operation, officer):
    add_option(operation, officer, capacity=10)
    later = submit(
        operation, citizen(), earliest_date=timezone.localdate() + datetime.timedelta(days=5)
    )
    now = submit(operation, citizen())

    allocation.allocation_run(operation=operation, run_by=officer)
    again = allocation.allocation_run(operation=operation, run_by=officer)

    assert offered_option(later) is None
    assert offered_option(now) is not None
    assert again.offers == 0
    assert Offer.objects.count() == 1


def test_the_database_refuses_an_overbooking_whatever_the_code_does(operation, officer):
    option = add_option(operation, officer, capacity=2)

    with pytest.raises(IntegrityError), transaction.atomic():
        DepartureOption.objects.filter(id=option.id).update(seats_taken=3)


def test_the_database_refuses_two_live_offers_for_one_party(operation, officer):
    first, second = add_option(operation, officer), add_option(operation, officer)
    intent = submit(operation, citizen())
    deadline = timezone.now() + datetime.timedelta(hours=1)
    Offer.objects.create(intent=intent, option=first, seats=1, deadline=deadline)

    with pytest.raises(IntegrityError), transaction.atomic():
        Offer.objects.create(intent=intent, option=second, seats=1, deadline=deadline)


def test_advisory_approvers_cannot_run_the_allocation(operation):
    approver = staff_at("ML", Membership.Role.APPROVER, username="ml-approver")

    with pytest.raises(PermissionDenied):
        allocation.allocation_run(operation=operation, run_by=approver)


def test_an_option_in_the_past_or_with_a_late_cut_off_is_refused(operation, officer):
    now = timezone.now()
    with pytest.raises(ValidationFailed) as past:
        add_option(operation, officer, departs_at=now - datetime.timedelta(hours=1))
    with pytest.raises(ValidationFailed) as cutoff:
        add_option(operation, officer, booking_cutoff=now + datetime.timedelta(days=3))

    assert (past.value.field, cutoff.value.field) == ("departs_at", "booking_cutoff")
    assert not DepartureOption.objects.exists()


def test_capacity_cannot_go_below_the_seats_accepted(operation, officer):
    option = add_option(operation, officer, capacity=4)
    person = citizen(household=2)
    submit(operation, person)
    allocation.allocation_run(operation=operation, run_by=officer)
    from departures.services import offers

    offers.offer_accept(offer_id=Offer.objects.get().id, citizen_id=person.id)

    with pytest.raises(ValidationFailed) as refused:
        options.option_change_capacity(option=option, changed_by=officer, capacity=2)

    assert refused.value.field == "capacity"
    option.refresh_from_db()
    assert (option.capacity, option.seats_taken) == (4, 3)
    assert (
        options.option_change_capacity(option=option, changed_by=officer, capacity=3).capacity == 3
    )


def test_a_smaller_capacity_withdraws_the_last_offers_and_a_bigger_one_takes_more(
    operation, officer
):
    option = add_option(operation, officer, capacity=2)
    first, second, third = (submit(operation, citizen()) for _ in range(3))
    allocation.allocation_run(operation=operation, run_by=officer)

    options.option_change_capacity(option=option, changed_by=officer, capacity=1)

    assert offered_option(first) == option
    assert offered_option(second) is None
    assert Offer.objects.get(intent=second).withdrawn_reason == options.CAPACITY_REASON
    options.option_change_capacity(option=option, changed_by=officer, capacity=3)
    allocation.allocation_run(operation=operation, run_by=officer)
    assert offered_option(third) == option  # second was offered this option once already


def test_a_cancelled_option_sends_its_passengers_back_to_the_queue(operation, officer):
    option = add_option(operation, officer, capacity=10)
    party = submit(operation, citizen(household=1))
    allocation.allocation_run(operation=operation, run_by=officer)
    with pytest.raises(ValidationFailed):
        options.option_cancel(option=option, cancelled_by=officer, reason=" ")

    cancelled = options.option_cancel(option=option, cancelled_by=officer, reason="Airport shut")

    assert (cancelled.seats_taken, cancelled.cancel_reason) == (0, "Airport shut")
    assert [intent.id for intent in queue_of_operation(operation=operation)] == [party.id]
    with pytest.raises(Conflict):
        options.option_change_capacity(option=option, changed_by=officer, capacity=20)
    replacement = add_option(operation, officer, capacity=10)
    allocation.allocation_run(operation=operation, run_by=officer)
    assert offered_option(party) == replacement
