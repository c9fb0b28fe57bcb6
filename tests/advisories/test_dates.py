"""Item 6 of issue 16: a date reads one way per language on every public page: the day, the
month in words, the year, and for a moment the 24-hour time and its zone."""

import datetime

import pytest
import time_machine

from tests.advisories.conftest import publish

pytestmark = pytest.mark.usefixtures("geography")

PUBLISHED = datetime.datetime(2026, 12, 5, 14, 30, tzinfo=datetime.UTC)
MOMENT = {"en": "5 December 2026, 14:30 UTC", "fr": "5 décembre 2026, 14 h 30 UTC"}


@pytest.fixture
def mali(ml_editor, ml_approver, django_capture_on_commit_callbacks):
    with (
        time_machine.travel(PUBLISHED, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        return publish(country_code="ML", editor=ml_editor, approver=ml_approver, level=3)


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("url", ["/advisories/ML/", "/advisories/ML/history/"])
def test_an_advisory_page_dates_its_version_one_way_per_language(mali, client, language, url):
    html = client.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode()

    assert MOMENT[language] in html
    assert "UTC UTC" not in html
