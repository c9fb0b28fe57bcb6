import pytest

from core import personal_data
from departures.models import Intent, Offer, Traveller
from departures.services import allocation, intents
from tests.departures.conftest import add_option, citizen, submit

pytestmark = pytest.mark.django_db


def test_intents_travellers_and_offers_are_in_the_citizens_export(operation, officer):
    add_option(operation, officer)
    person = citizen()
    submit(
        operation,
        person,
        travellers=[intents.TravellerFields(nationality="Malian", document_number="AB123")],
    )
    allocation.allocation_run(operation=operation, run_by=officer)

    sections = personal_data.export(citizen_id=person.id)

    assert len(sections["departure_intents"]) == 1
    assert sections["departure_travellers"][0]["document_number"] == "AB123"
    assert sections["departure_offers"][0]["state"] == "offered"
    assert personal_data.export(citizen_id=citizen().id)["departure_intents"] == []


def test_erasure_keeps_the_counts_and_the_manifest_size_not_the_person(operation, officer):
    add_option(operation, officer)
    person = citizen(household=1)
    submit(operation, person, needs_assistance=True, assistance_details="Oxygen")
    allocation.allocation_run(operation=operation, run_by=officer)

    personal_data.erase(citizen_ids=[person.id], reason="request")

    intent = Intent.objects.get()
    assert (intent.citizen_id, intent.people, intent.assistance_details) == (None, 2, "")
    assert Traveller.objects.count() == 2
    assert set(Traveller.objects.values_list("document_number", flat=True)) == {""}
    assert Offer.objects.get().seats == 2
