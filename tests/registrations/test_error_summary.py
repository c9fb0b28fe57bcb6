"""Item 6 of issue 16: a form sent back with errors lists them at the top of the page, each
linked to its field, in the reader's language, and the list takes the focus on arrival."""

import re

import pytest

from registrations.models import Citizen
from tests.registrations.factories import PresenceFactory
from tests.registrations.test_views import form_data, manage_path

pytestmark = pytest.mark.usefixtures("geography")


def summary_of(html: str) -> str:
    found = re.search(r'<div class="error-summary"(.*?)</div>', html, re.S)
    assert found, html
    return found.group(0)


def links_of(summary: str) -> dict[str, str]:
    return dict(re.findall(r'<li><a href="#([^"]+)">(.*?)</a></li>', summary))


@pytest.mark.parametrize(
    ("language", "title", "email_error"),
    [
        ("en", "There is a problem", "Email: Enter a valid email address."),
        ("fr", "Il y a un problème", "Courriel : Saisissez une adresse e-mail valide."),
    ],
)
def test_registration_errors_are_listed_at_the_top_each_linked_to_its_field(
    client, language, title, email_error
):
    data = form_data(**{"person-email": "not-an-address", "person-given_name": ""})

    response = client.post("/register/", data, HTTP_ACCEPT_LANGUAGE=language)

    html = response.content.decode()
    summary = summary_of(html)
    assert title in summary
    links = links_of(summary)
    assert set(links) == {"id_person-email", "id_person-given_name"}
    assert links["id_person-email"] == email_error
    # Each link leads to an input that is on the page.
    assert all(f'id="{anchor}"' in html for anchor in links)
    assert html.index("error-summary") < html.index('<form method="post" novalidate>')
    assert Citizen.objects.count() == 0


def test_the_summary_takes_the_focus_and_is_announced_without_script(client):
    response = client.post("/register/", form_data(**{"person-email": ""}))

    summary = summary_of(response.content.decode())
    assert 'role="alert"' in summary
    assert 'tabindex="-1"' in summary
    assert "autofocus" in summary
    assert "<script" not in response.content.decode()


def test_a_household_row_is_named_in_the_summary(client):
    data = form_data(
        **{"household-0-name": "Moussa Traoré", "household-0-date_of_birth": "someday"}
    )

    response = client.post("/register/", data, HTTP_ACCEPT_LANGUAGE="en")

    links = links_of(summary_of(response.content.decode()))
    assert links["id_household-0-date_of_birth"].startswith("Person 1, Date of birth: ")


def test_a_radio_group_error_links_to_its_first_choice(client):
    response = client.post("/register/", form_data(**{"presence-kind": ""}))

    links = links_of(summary_of(response.content.decode()))
    assert "id_presence-kind_0" in links


def test_no_summary_on_a_fresh_form_nor_when_showing_regions(client):
    fresh = client.get("/register/")
    refreshed = client.post("/register/", form_data(**{"show_regions": "1", "person-phone": "1"}))

    assert "error-summary" not in fresh.content.decode()
    assert "error-summary" not in refreshed.content.decode()


def test_a_trip_with_errors_lists_them_by_destination(client):
    citizen = PresenceFactory().citizen

    response = client.post(
        manage_path(citizen, "trips/new/"),
        {
            "legs-TOTAL_FORMS": "1",
            "legs-INITIAL_FORMS": "0",
            "legs-0-country": "ML",
            "legs-0-start_date": "",
        },
        HTTP_ACCEPT_LANGUAGE="fr",
    )

    links = links_of(summary_of(response.content.decode()))
    assert any(text.startswith("Destination 1, ") for text in links.values()), links
