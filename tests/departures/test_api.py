import datetime

import pytest
from django.utils import timezone, translation
from rest_framework.test import APIClient

from departures.models import Intent, Offer
from departures.services import allocation
from registrations import tokens
from tests.departures.conftest import add_option, citizen, members
from tests.registrations.factories import PresenceFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/me/departure-intent/"


def client_of(person) -> APIClient:
    return APIClient(HTTP_AUTHORIZATION=f"Citizen {tokens.me_token(person.id)}")


@pytest.fixture
def mother(geography):
    person = citizen(household=1, language="fr")
    PresenceFactory(citizen=person, country_id="ML", region_id="ML-7")
    return person


def body(person, **fields):
    return {
        "travellers": [
            {"nationality": "Malienne", "document_type": "passport", "document_number": "P1"},
            {"household_member": str(members(person)[0].id), "document_type": "passport"},
        ],
        "earliest_date": timezone.localdate().isoformat(),
        "region": "ML-7",
        **fields,
    }


def test_a_citizen_states_and_updates_their_intent_through_the_api(operation, mother):
    client = client_of(mother)

    first = client.put(URL, body(mother), format="json")
    second = client.put(URL, body(mother, needs_assistance=True), format="json")

    assert first.status_code == second.status_code == 200
    assert Intent.objects.count() == 1
    data = second.json()
    assert data["intent"]["people"] == 2
    assert data["intent"]["needs_assistance"] is True
    assert data["operation"]["eligibility"] == "Les ressortissants et leur foyer enregistré."
    assert second["Cache-Control"].count("no-store") == 1


def test_someone_elses_household_member_is_a_400_naming_the_field_in_french(operation, mother):
    stranger = citizen(household=1)
    wrong = body(mother)
    wrong["travellers"][1]["household_member"] = str(members(stranger)[0].id)

    response = client_of(mother).put(URL, wrong, format="json", HTTP_ACCEPT_LANGUAGE="fr")

    assert response.status_code == 400
    assert "travellers" in response.json()["errors"]
    assert "foyer" in response.json()["errors"]["travellers"][0]
    assert not Intent.objects.exists()


def test_no_departure_where_the_citizen_is_is_a_404(mother):
    assert client_of(mother).get(URL).status_code == 404


def test_the_citizen_accepts_an_offer_and_a_stranger_cannot(operation, officer, mother):
    add_option(operation, officer)
    client_of(mother).put(URL, body(mother), format="json")
    allocation.allocation_run(operation=operation, run_by=officer)
    offer = Offer.objects.get()
    stranger = citizen()
    accept = f"{URL}offers/{offer.id}/accept/"

    refused = client_of(stranger).post(accept)
    accepted = client_of(mother).post(accept)

    assert refused.status_code == 404
    assert accepted.status_code == 200
    assert accepted.json()["state"] == "accepted"
    listed = client_of(mother).get(URL).json()["offers"]
    assert [row["state"] for row in listed] == ["accepted"]


def test_an_accept_after_the_deadline_is_a_409(operation, officer, mother):
    add_option(operation, officer)
    client_of(mother).put(URL, body(mother), format="json")
    allocation.allocation_run(
        operation=operation, run_by=officer, answer_within=datetime.timedelta(minutes=5)
    )
    offer = Offer.objects.get()
    import time_machine

    with (
        time_machine.travel(timezone.now() + datetime.timedelta(hours=1)),
        translation.override("en"),
    ):
        response = client_of(mother).post(f"{URL}offers/{offer.id}/accept/")

    assert response.status_code == 409
    offer.refresh_from_db()
    assert offer.state == "offered"
