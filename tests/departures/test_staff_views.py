import datetime

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import Membership
from departures.models import DepartureOperation, DepartureOption, Intent, Offer
from tests.accounts.factories import login_verified, staff_at
from tests.departures.conftest import citizen, submit

pytestmark = pytest.mark.django_db
LIST = "/staff/departures/"


def signed_in(user) -> Client:
    client = Client()
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    login_verified(client, user)
    return client


def test_staff_open_an_operation_have_it_approved_and_run_it_from_the_pages(
    officer, second_officer
):
    opener, second = signed_in(officer), signed_in(second_officer)

    created = opener.post(LIST, {"country": "ML", "eligibility_en": "Nationals."})
    operation = DepartureOperation.objects.get()
    board = f"{LIST}{operation.id}/"
    opener.post(board, {"action": "submit"})
    refused = opener.post(board, {"action": "approve"})
    second.post(board, {"action": "approve"})
    now = timezone.now()
    opener.post(
        board,
        {
            "action": "add_option",
            "kind": "flight",
            "departs_at": (now + datetime.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
            "place": "Bamako-Sénou",
            "assembly_point": "Embassy",
            "capacity": "150",
            "booking_cutoff": (now + datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    party = submit(DepartureOperation.objects.get(), citizen(household=1))
    page = opener.get(board)
    opener.post(board, {"action": "allocate"})

    assert created.status_code == 302
    assert refused.status_code == 403
    assert DepartureOperation.objects.get().status == "open"
    assert DepartureOption.objects.get().capacity == 150
    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"]
    assert Offer.objects.get().intent == party


def test_a_capacity_below_the_accepted_seats_is_refused_on_the_page(operation, officer):
    from departures.services import allocation, offers
    from tests.departures.conftest import add_option

    option = add_option(operation, officer, capacity=4)
    person = citizen(household=2)
    submit(operation, person)
    allocation.allocation_run(operation=operation, run_by=officer)
    offers.offer_accept(offer_id=Offer.objects.get().id, citizen_id=person.id)

    response = signed_in(officer).post(
        f"{LIST}{operation.id}/", {"action": "capacity", "option": option.id, "capacity": "2"}
    )

    assert response.status_code == 400
    assert "3" in response.content.decode()
    option.refresh_from_db()
    assert option.capacity == 4


def test_a_priority_is_overridden_from_the_queue(operation, officer):
    intent = submit(operation, citizen())

    signed_in(officer).post(
        f"{LIST}{operation.id}/",
        {"action": "priority", "intent": intent.id, "priority": "1", "reason": "Dialysis"},
    )

    assert Intent.objects.get().priority_override == 1


def test_advisory_approvers_and_other_posts_see_no_departure(operation):
    approver = staff_at("ML", Membership.Role.APPROVER, username="ml-approver")
    from tests.accounts.factories import PostFactory

    PostFactory(code="post-lb", countries=["LB"])
    beirut = staff_at("LB", Membership.Role.OFFICER, username="lb-officer")

    for user in (approver, beirut):
        client = signed_in(user)
        assert client.get(f"{LIST}{operation.id}/").status_code == 404
        assert str(operation.id) not in client.get(LIST).content.decode()


def test_a_forged_option_id_is_a_404(operation, officer):
    response = signed_in(officer).post(
        f"{LIST}{operation.id}/", {"action": "cancel", "option": "nope", "reason": "x"}
    )

    assert response.status_code == 404


def test_the_manifest_lists_each_person_with_a_seat_printable_and_as_csv(operation, officer):
    import csv
    import io

    from core.models import AuditEvent
    from departures.services import allocation, intents
    from tests.departures.conftest import add_option, members

    option = add_option(operation, officer)
    mother = citizen(household=1, given_name="Aminata", family_name="Diallo")
    daughter = members(mother)[0]
    submit(
        operation,
        mother,
        travellers=[
            intents.TravellerFields(
                nationality="Malienne", document_type="passport", document_number="=CMD()"
            ),
            intents.TravellerFields(household_member_id=daughter.id, nationality="Malienne"),
        ],
    )
    allocation.allocation_run(operation=operation, run_by=officer)
    client = signed_in(officer)

    page = client.get(f"{LIST}options/{option.id}/manifest/")
    exported = client.get(f"{LIST}options/{option.id}/manifest.csv")

    assert page.status_code == 200
    assert "Aminata Diallo" in page.content.decode()
    rows = list(csv.DictReader(io.StringIO(exported.content.decode())))
    assert [row["name"] for row in rows] == ["Aminata Diallo", daughter.name]
    assert rows[0]["document_number"] == "'=CMD()"  # no formula in a spreadsheet
    assert rows[1]["relation"] == "child"
    assert "no-store" in exported["Cache-Control"]
    assert AuditEvent.objects.filter(action="export", object_id=str(option.id)).exists()
