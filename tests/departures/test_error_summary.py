"""Item 6 of issue 16: the departure form sent back with errors lists them at its top, each
linked to its field, in the reader's language."""

import re

import pytest
from django.test import Client

from departures.models import Intent
from registrations import tokens
from tests.departures.conftest import citizen
from tests.departures.test_views import form_data
from tests.registrations.factories import PresenceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def aminata(geography):
    person = citizen(household=1, given_name="Aminata")
    PresenceFactory(citizen=person, country_id="ML", region_id="ML-7")
    return person


@pytest.mark.parametrize(
    ("language", "title", "date_error"),
    [
        ("en", "There is a problem", "Earliest date you can leave: Enter a valid date."),
        (
            "fr",
            "Il y a un problème",
            "Date à partir de laquelle vous pouvez partir : Saisissez une date valide.",
        ),
    ],
)
def test_the_departure_form_lists_its_errors_at_the_top(
    operation,
    aminata,
    language,
    title,
    date_error,
):
    token = tokens.manage_token(aminata.id)

    response = Client(HTTP_ACCEPT_LANGUAGE=language).post(
        f"/departure/{token}/", form_data(aminata, earliest_date="soon", travellers=[])
    )

    html = response.content.decode()
    summary = re.search(r'<div class="error-summary".*?</div>', html, re.S)
    assert summary, html
    links = dict(re.findall(r'<a href="#([^"]+)">(.*?)</a>', summary.group(0)))
    assert title in summary.group(0)
    assert links["id_earliest_date"] == date_error
    assert "id_travellers_0" in links  # a group of checkboxes: its first box
    assert not Intent.objects.exists()
