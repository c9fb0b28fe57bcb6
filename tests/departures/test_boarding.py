import datetime

import pytest
from django.utils import timezone, translation

from accounts.models import Membership
from core.audit import AuditEvent
from core.exceptions import Conflict, NotFound, ValidationFailed
from departures import manifests, selectors
from departures.models import Boarding, Offer, Traveller
from departures.services import allocation, boarding, offers
from registrations.models import Presence
from tests.accounts.factories import PostFactory, staff_at
from tests.departures.conftest import add_option, citizen, submit
from tests.registrations.factories import PresenceFactory

pytestmark = pytest.mark.django_db


def accepted_party(operation, officer, *, household=1, **fields):
    """A citizen in Gao with a household, whose party accepted seats on a flight."""
    person = citizen(household=household, **fields)
    PresenceFactory(citizen=person, country_id="ML", region_id="ML-7")
    intent = submit(operation, person)
    option = add_option(operation, officer)
    allocation.allocation_run(operation=operation, run_by=officer)
    offer = Offer.objects.get(intent=intent)
    offers.offer_accept(offer_id=offer.id, citizen_id=person.id)
    travellers = list(Traveller.objects.filter(intent=intent).order_by("-is_citizen", "created_at"))
    return person, option, offer, travellers


def open_presences(person, country="ML"):
    today = timezone.localdate()
    return [
        presence
        for presence in Presence.objects.filter(citizen=person, country_id=country)
        if presence.end_date is None or presence.end_date > today
    ]


def test_boarding_the_citizen_ends_their_presence_and_their_household_is_recorded_leaving(
    operation, officer
):
    person, option, offer, (me, daughter) = accepted_party(operation, officer)
    PresenceFactory(citizen=person, country_id="LB", region_id="LB-BA")  # elsewhere: stays
    assert len(open_presences(person)) == 1

    boarding.boarding_mark(
        option=option, traveller_id=daughter.id, state="boarded", marked_by=officer
    )
    assert len(open_presences(person)) == 1  # a household member has no presence of her own
    boarding.boarding_mark(option=option, traveller_id=me.id, state="boarded", marked_by=officer)

    assert open_presences(person) == []
    ended = Presence.objects.get(citizen=person, country_id="ML")
    assert ended.end_date == timezone.localdate()
    assert len(open_presences(person, "LB")) == 1
    rows = Boarding.objects.filter(offer=offer).order_by("created_at")
    assert [(row.traveller_id, row.state) for row in rows] == [
        (daughter.id, "boarded"),
        (me.id, "boarded"),
    ]
    assert all(row.boarded_at and row.present_at and row.marked_by == officer for row in rows)
    board = selectors.operation_board(operation=operation)
    assert board.boarded_people == 2
    assert [(seats.accepted, seats.boarded) for seats in board.options] == [(2, 2)]
    [gao] = board.regions
    assert (gao.name, gao.people, gao.accepted, gao.boarded, gao.waiting) == ("Gao", 2, 2, 2, 0)
    steps = AuditEvent.objects.filter(object_type="departures.boarding").values_list(
        "detail__step", flat=True
    )
    assert sorted(steps) == ["boarding_boarded", "boarding_boarded"]


def test_boarding_twice_is_one_record_and_one_audit_line(operation, officer, second_officer):
    _person, option, _offer, (me, _daughter) = accepted_party(operation, officer)

    first = boarding.boarding_mark(
        option=option, traveller_id=me.id, state="boarded", marked_by=officer
    )
    again = boarding.boarding_mark(
        option=option, traveller_id=me.id, state="boarded", marked_by=second_officer
    )

    assert again.id == first.id
    assert again.marked_by == officer
    assert Boarding.objects.count() == 1
    assert AuditEvent.objects.filter(object_type="departures.boarding").count() == 1


def test_a_no_show_may_still_come_but_boarding_is_final(operation, officer):
    person, option, _offer, (me, daughter) = accepted_party(operation, officer)

    marked = boarding.boarding_mark(
        option=option, traveller_id=daughter.id, state="no_show", marked_by=officer
    )
    assert (marked.state, marked.present_at) == ("no_show", None)
    assert open_presences(person)  # not come: still in the country
    marked = boarding.boarding_mark(
        option=option, traveller_id=daughter.id, state="present", marked_by=officer
    )
    assert marked.state == "present"
    assert marked.present_at is not None
    boarding.boarding_mark(
        option=option, traveller_id=daughter.id, state="boarded", marked_by=officer
    )

    with pytest.raises(Conflict) as refused:
        boarding.boarding_mark(
            option=option, traveller_id=daughter.id, state="no_show", marked_by=officer
        )
    assert refused.value.code == "boarded"
    assert Boarding.objects.get(traveller=daughter).state == "boarded"
    with pytest.raises(ValidationFailed):
        boarding.boarding_mark(option=option, traveller_id=me.id, state="gone", marked_by=officer)


def test_boarding_someone_without_an_accepted_offer_is_refused_in_the_users_language(
    operation, officer
):
    option = add_option(operation, officer)
    person = citizen()
    PresenceFactory(citizen=person, country_id="ML", region_id="ML-7")
    intent = submit(operation, person)
    allocation.allocation_run(operation=operation, run_by=officer)  # offered, not accepted
    [me] = Traveller.objects.filter(intent=intent)

    with translation.override("fr"), pytest.raises(Conflict) as refused:
        boarding.boarding_mark(
            option=option, traveller_id=me.id, state="boarded", marked_by=officer
        )
    with pytest.raises(Conflict):
        boarding.boarding_mark(
            option=option, traveller_id="nobody", state="present", marked_by=officer
        )

    assert refused.value.code == "no_seat"
    assert str(refused.value.message) == (
        "Cette personne n'a pas de place confirmée pour ce départ."
    )
    assert Boarding.objects.count() == 0
    assert open_presences(person)


def test_staff_of_another_post_or_advisory_roles_find_no_option(operation, officer):
    person, option, _offer, (me, _daughter) = accepted_party(operation, officer)
    PostFactory(code="post-lb", name="Embassy in Beirut", countries=["LB"])
    beirut = staff_at("LB", Membership.Role.OFFICER, username="beirut-officer")
    editor = staff_at("ML", Membership.Role.EDITOR, username="bamako-editor")
    approver = staff_at("ML", Membership.Role.APPROVER, username="bamako-approver")

    for user in (beirut, editor, approver):
        with pytest.raises(NotFound):
            boarding.boarding_mark(
                option=option, traveller_id=me.id, state="boarded", marked_by=user
            )

    assert Boarding.objects.count() == 0
    assert open_presences(person)


def test_i_have_arrived_closes_the_loop_once_the_party_boarded(operation, officer):
    person, option, offer, (me, _daughter) = accepted_party(operation, officer)

    with pytest.raises(Conflict):
        boarding.offer_arrived(offer_id=offer.id, citizen_id=person.id)
    with pytest.raises(NotFound):
        boarding.offer_arrived(offer_id=offer.id, citizen_id=citizen().id)
    boarding.boarding_mark(option=option, traveller_id=me.id, state="boarded", marked_by=officer)
    arrived = boarding.offer_arrived(offer_id=offer.id, citizen_id=person.id)
    again = boarding.offer_arrived(offer_id=offer.id, citizen_id=person.id)

    assert arrived.arrived_at is not None
    assert again.arrived_at == arrived.arrived_at
    assert selectors.operation_board(operation=operation).arrived_people == 2
    assert AuditEvent.objects.filter(object_id=str(offer.id), detail__step="arrived").count() == 1


def test_a_party_that_boarded_cannot_decline_its_seats(operation, officer):
    person, option, offer, (me, _daughter) = accepted_party(operation, officer)
    boarding.boarding_mark(option=option, traveller_id=me.id, state="present", marked_by=officer)
    boarding.boarding_mark(option=option, traveller_id=me.id, state="boarded", marked_by=officer)

    with pytest.raises(Conflict):
        offers.offer_decline(offer_id=offer.id, citizen_id=person.id)

    offer.refresh_from_db()
    assert offer.state == "accepted"


def test_check_in_finds_people_by_reference_scanned_link_or_name(operation, officer):
    _person, option, offer, (me, daughter) = accepted_party(
        operation, officer, given_name="Aminata", family_name="Keita"
    )
    waiting = citizen(given_name="Aminata", family_name="Diarra")
    submit(operation, waiting, earliest_date=timezone.localdate() + datetime.timedelta(days=30))

    def found(query):
        return [
            entry.traveller_id for entry in manifests.checkin_search(option=option, query=query)
        ]

    assert found(offer.reference) == [me.id, daughter.id]
    assert found(f" {offer.reference.lower()} ") == [me.id, daughter.id]
    assert found(f"https://consular.example/boarding/{offer.reference}/") == [me.id, daughter.id]
    assert found("aminata") == [me.id]  # offered-only and waiting people are not listed
    assert found("member 0") == [daughter.id]  # household names are encrypted: read in Python
    assert found("nobody") == []


def test_the_export_holds_the_boardings(operation, officer):
    from core import personal_data

    person, option, _offer, (me, _daughter) = accepted_party(operation, officer)
    boarding.boarding_mark(option=option, traveller_id=me.id, state="boarded", marked_by=officer)

    exported = personal_data.export(citizen_id=person.id)

    [row] = exported["departure_boardings"]
    assert (row["state"], row["traveller_id"]) == ("boarded", str(me.id))
    assert "marked_by_id" not in row


def test_erasure_keeps_the_boardings_and_the_boards_counts(operation, officer):
    from core import personal_data

    person, option, _offer, (me, daughter) = accepted_party(operation, officer)
    for traveller in (me, daughter):
        boarding.boarding_mark(
            option=option, traveller_id=traveller.id, state="boarded", marked_by=officer
        )

    personal_data.erase(citizen_ids=[person.id], reason="request")

    assert Boarding.objects.filter(state="boarded").count() == 2
    assert selectors.operation_board(operation=operation).boarded_people == 2
    assert [row.name for row in manifests.manifest_rows(option=option)] == ["", ""]


def test_the_check_in_search_costs_the_same_queries_whatever_the_number_of_people(
    operation, officer, django_assert_num_queries
):
    _person, option, offer, _travellers = accepted_party(operation, officer)
    manifests.checkin_search(option=option, query=offer.reference)  # warm the content types
    with django_assert_num_queries(5):
        manifests.checkin_search(option=option, query=offer.reference)
    for _n in range(5):
        other = citizen(household=2)
        submit(operation, other)
    allocation.allocation_run(operation=operation, run_by=officer)
    for made in Offer.objects.filter(state="offered"):
        offers.offer_accept(offer_id=made.id, citizen_id=made.intent.citizen_id)

    with django_assert_num_queries(5):
        found = manifests.checkin_search(option=option, query="member")

    assert len(found) == 1 + 5 * 2
