import re

import pytest
from django.utils import timezone

from tests.accounts.factories import login_verified, staff_at
from tests.notifications.factories import AlertFactory

pytestmark = pytest.mark.usefixtures("geography")

CHANGELIST = "/admin/notifications/alert/"


def _column(page: str, name: str) -> tuple[str, str]:
    """A list column's heading and its first cell."""
    heading = re.search(rf'column-{name}">.*?<(?:a|span)[^>]*>([^<]+)<', page, re.DOTALL)
    cell = re.search(rf'field-{name}">([^<]*)<', page)
    assert heading, name
    assert cell, name
    return heading.group(1).strip(), cell.group(1)


@pytest.mark.parametrize(
    ("language", "columns", "reach"),
    [
        ("en", [("People", "2"), ("Messages", "3")], "2 people, 3 messages"),
        ("fr", [("Personnes", "2"), ("Messages", "3")], "2 personnes, 3 messages"),
    ],
)
def test_an_alert_shows_the_people_it_reached_and_the_messages_it_sent(
    client, language, columns, reach
):
    alert = AlertFactory(country_id="ML", people=2, messages=3, fanned_out_at=timezone.now())
    login_verified(client, staff_at("ML"))
    client.cookies["django_language"] = language

    listed = client.get(CHANGELIST).content.decode()
    page = client.get(f"{CHANGELIST}{alert.pk}/change/").content.decode()

    assert [_column(listed, "people"), _column(listed, "messages")] == columns
    assert reach in page


def test_an_alert_not_fanned_out_yet_claims_no_reach(client):
    alert = AlertFactory(country_id="ML", fanned_out_at=None)
    login_verified(client, staff_at("ML"))

    page = client.get(f"{CHANGELIST}{alert.pk}/change/").content.decode()

    assert "0 people" not in page
