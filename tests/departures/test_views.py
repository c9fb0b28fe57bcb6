import pytest
from django.test import Client
from django.utils import timezone

from departures.models import Intent, Offer
from departures.services import allocation
from registrations import tokens
from tests.departures.conftest import add_option, citizen, members
from tests.registrations.factories import PresenceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def mother(geography):
    person = citizen(household=1, language="fr", given_name="Aminata")
    PresenceFactory(citizen=person, country_id="ML", region_id="ML-7")
    return person


def form_data(person, **fields):
    daughter = str(members(person)[0].id)
    return {
        "travellers": ["self", daughter],
        "region": "ML-7",
        "earliest_date": timezone.localdate().isoformat(),
        "self-nationality": "Malienne",
        "self-document_type": "passport",
        "self-document_number": "P123",
        f"{daughter}-document_type": "passport",
        **fields,
    }


def test_the_manage_page_offers_the_form_and_the_form_states_the_intent(operation, mother):
    token = tokens.manage_token(mother.id)
    client = Client(HTTP_ACCEPT_LANGUAGE="fr")

    page = client.get(f"/manage/{token}/")
    form = client.get(f"/departure/{token}/")
    sent = client.post(f"/departure/{token}/", form_data(mother))

    assert f"/departure/{token}/" in page.content.decode()
    assert form.status_code == 200
    assert "no-store" in form["Cache-Control"]
    assert sent.status_code == 302
    intent = Intent.objects.get()
    assert (intent.people, intent.region_id) == (2, "ML-7")
    assert intent.travellers.get(is_citizen=True).document_number == "P123"
    again = client.get(f"/departure/{token}/").content.decode()
    assert "P123" in again


def test_a_refusal_is_shown_on_the_form_and_nothing_is_written(operation, mother):
    token = tokens.manage_token(mother.id)

    response = Client().post(f"/departure/{token}/", form_data(mother, earliest_date="2020-01-01"))

    assert response.status_code == 200
    assert not Intent.objects.exists()


def test_the_citizen_accepts_the_offer_from_the_manage_page(operation, officer, mother):
    token = tokens.manage_token(mother.id)
    client = Client(HTTP_ACCEPT_LANGUAGE="fr")
    client.post(f"/departure/{token}/", form_data(mother))
    add_option(operation, officer, capacity=150)
    allocation.allocation_run(operation=operation, run_by=officer)
    offer = Offer.objects.get()

    page = client.get(f"/manage/{token}/").content.decode()
    answered = client.post(f"/departure/{token}/offers/{offer.id}/", {"answer": "accept"})

    assert f"/departure/{token}/offers/{offer.id}/" in page
    assert "2 places sont proposées à votre groupe" in page
    assert "Accepter" in page
    assert answered.status_code == 302
    offer.refresh_from_db()
    assert offer.state == "accepted"


def test_someone_else_cannot_answer_the_offer(operation, officer, mother):
    token = tokens.manage_token(mother.id)
    Client().post(f"/departure/{token}/", form_data(mother))
    add_option(operation, officer)
    allocation.allocation_run(operation=operation, run_by=officer)
    offer = Offer.objects.get()
    stranger = tokens.manage_token(citizen().id)

    response = Client().post(f"/departure/{stranger}/offers/{offer.id}/", {"answer": "accept"})

    assert response.status_code == 404
    offer.refresh_from_db()
    assert offer.state == "offered"


def test_a_bad_link_is_a_404(operation):
    assert Client().get("/departure/not-a-token/").status_code == 404
