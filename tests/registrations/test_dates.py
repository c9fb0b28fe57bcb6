"""Item 6 of issue 16: a date reads one way per language on every public page (the formats
are consular/formats/)."""

import datetime

import pytest

from tests.registrations.factories import trip_leg
from tests.registrations.test_views import manage_path

pytestmark = pytest.mark.usefixtures("geography")


@pytest.mark.parametrize(
    ("language", "words"),
    [("en", "1 March 2027 to 20 March 2027"), ("fr", "1 mars 2027 au 20 mars 2027")],
)
def test_the_manage_page_dates_a_trip_one_way_per_language(client, language, words):
    leg = trip_leg(start_date=datetime.date(2027, 3, 1), end_date=datetime.date(2027, 3, 20))

    html = client.get(manage_path(leg.citizen), HTTP_ACCEPT_LANGUAGE=language).content.decode()

    assert words in html
