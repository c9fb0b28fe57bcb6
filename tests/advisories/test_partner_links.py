import pytest
from django.core.cache import cache
from django.template import Context, Template

from regions.selectors import country_get

pytestmark = pytest.mark.usefixtures("geography")

PAGE = "{% load partner_links %}{% partner_links country %}"


def test_no_partner_links_by_default(settings):
    assert settings.ADVISORY_PARTNER_LINKS == []
    assert Template(PAGE).render(Context({"country": country_get(code="ML")})) == ""


def test_partner_links_name_the_country_by_code_or_slug(settings):
    settings.ADVISORY_PARTNER_LINKS = [
        ("United Kingdom", "https://www.gov.uk/foreign-travel-advice/{slug}"),
        ("Example", "https://partner.example/{iso2}?a=1&b=2"),
    ]

    html = Template(PAGE).render(Context({"country": country_get(code="ML")}))

    assert '<a href="https://www.gov.uk/foreign-travel-advice/mali"' in html
    assert 'href="https://partner.example/ml?a=1&amp;b=2"' in html
    assert "What partners advise" in html


def test_the_public_page_shows_the_partner_links_when_set(settings, client, ml_editor, ml_approver):
    from tests.advisories.conftest import publish

    publish(country_code="ML", editor=ml_editor, approver=ml_approver, level=3)
    assert "What partners advise" not in client.get("/advisories/ML/").content.decode()
    settings.ADVISORY_PARTNER_LINKS = [
        ("United Kingdom", "https://www.gov.uk/foreign-travel-advice/{slug}")
    ]
    cache.clear()  # a new setting reaches the cached page at its expiry, or at once so

    html = client.get("/advisories/ML/").content.decode()

    assert '<a href="https://www.gov.uk/foreign-travel-advice/mali"' in html
