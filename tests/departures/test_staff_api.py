import datetime

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import Membership
from departures.models import DepartureOperation, Offer
from tests.accounts.factories import staff_at
from tests.departures.conftest import citizen, submit

pytestmark = pytest.mark.django_db
API = "/api/v1/departures/"


def client_of(user) -> APIClient:
    token, _created = Token.objects.get_or_create(user=user)
    return APIClient(HTTP_AUTHORIZATION=f"Token {token.key}")


def test_staff_open_approve_add_a_flight_and_run_the_allocation(officer, second_officer):
    opener, second = client_of(officer), client_of(second_officer)
    created = opener.post(
        f"{API}operations/",
        {"country": "ML", "eligibility_en": "Nationals.", "region_codes": ["ML-7"]},
        format="json",
    )
    assert created.status_code == 201, created.json()
    operation_id = created.json()["id"]
    assert opener.post(f"{API}operations/{operation_id}/submit/").status_code == 200
    assert opener.post(f"{API}operations/{operation_id}/approve/").status_code == 403
    assert second.post(f"{API}operations/{operation_id}/approve/").json()["status"] == "open"
    now = timezone.now()
    flight = opener.post(
        f"{API}options/",
        {
            "operation": operation_id,
            "kind": "flight",
            "departs_at": (now + datetime.timedelta(days=2)).isoformat(),
            "place": "Bamako-Sénou",
            "assembly_point": "Embassy",
            "capacity": 150,
            "booking_cutoff": (now + datetime.timedelta(days=1)).isoformat(),
        },
        format="json",
    )
    assert flight.status_code == 201, flight.json()
    operation = DepartureOperation.objects.get(id=operation_id)
    party = submit(operation, citizen(household=1))

    queue = opener.get(f"{API}operations/{operation_id}/queue/").json()["results"]
    run = opener.post(f"{API}operations/{operation_id}/allocate/", {}, format="json")
    board = opener.get(f"{API}operations/{operation_id}/board/").json()

    assert [row["id"] for row in queue] == [str(party.id)]
    assert run.json() == {"offers": 1, "people": 2, "options": 1}
    assert (board["offered_people"], board["waiting_people"]) == (2, 0)
    assert Offer.objects.get().intent == party


def test_a_capacity_below_the_seats_accepted_is_a_400_naming_it(operation, officer):
    from departures.services import offers
    from tests.departures.conftest import add_option

    option = add_option(operation, officer, capacity=5)
    person = citizen(household=2)
    submit(operation, person)
    client = client_of(officer)
    client.post(f"{API}operations/{operation.id}/allocate/", {}, format="json")
    offers.offer_accept(offer_id=Offer.objects.get().id, citizen_id=person.id)

    response = client.post(f"{API}options/{option.id}/capacity/", {"capacity": 2}, format="json")

    assert response.status_code == 400
    assert "capacity" in response.json()["errors"]


def test_staff_override_a_priority_and_advisory_approvers_see_nothing(operation, officer):
    party = submit(operation, citizen())
    approver = staff_at("ML", Membership.Role.APPROVER, username="ml-approver")

    changed = client_of(officer).post(
        f"{API}intents/{party.id}/priority/",
        {"priority": 1, "reason": "Dialysis"},
        format="json",
    )
    hidden = client_of(approver).get(f"{API}operations/{operation.id}/")

    assert changed.status_code == 200
    assert changed.json()["priority"] == 1
    assert hidden.status_code == 404
    assert client_of(approver).get(f"{API}operations/").json()["results"] == []
