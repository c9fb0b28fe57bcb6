import pytest
from django.template import Context, Template
from django.urls import reverse

from peers import services
from tests.accounts.factories import UserFactory, login_verified

pytestmark = pytest.mark.django_db


@pytest.fixture
def fetched(posts, peer_settings, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        for name in ("us", "uk", "canada"):
            services.source_fetch(name=name)
    return posts


def test_the_mali_page_shows_each_partner_next_to_our_level(
    client, fetched, django_assert_max_num_queries
):
    login_verified(client, fetched.staff["bamako-editor"])

    # Nine with the query of the staff member's time zone (accounts' middleware).
    with django_assert_max_num_queries(9):
        page = client.get(reverse("peers:country", args=["ml"]))

    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"]
    html = page.content.decode()
    assert "Level 4: Do Not Travel" in html
    assert "Advise against all travel to parts" in html
    assert "Avoid all travel" in html
    assert "Higher than ours" in html
    assert "https://travel.gc.ca/destinations/mali" in html
    assert "(level 4 in parts)" in html  # ours: 3, the north at 4


def test_the_page_is_in_french_too(client, fetched):
    login_verified(client, fetched.staff["bamako-approver"])
    page = client.get(reverse("peers:country", args=["ml"]), HTTP_ACCEPT_LANGUAGE="fr")
    assert "Ce que conseillent les partenaires" in page.content.decode()


def test_the_uk_no_status_shows_both_of_our_levels_it_may_mean(client, fetched):
    user = UserFactory(username="root", is_superuser=True)
    login_verified(client, user)
    html = client.get(reverse("peers:country", args=["fr"])).content.decode()
    assert "1\N{EN DASH}2" in html
    assert "No advice against travel" in html


def test_beirut_staff_cannot_open_mali_s_page(client, fetched):
    login_verified(client, fetched.staff["beirut-editor"])
    assert client.get(reverse("peers:country", args=["ml"])).status_code == 404
    assert client.get(reverse("peers:country", args=["lb"])).status_code == 200
    assert client.get("/staff/peers/xyz/").status_code == 404


def test_the_overview_lists_the_post_s_countries_and_the_sources(
    client, fetched, feeds, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    feeds.routes["/travel-voyage/index-updated.json"].status = 500
    services.source_fetch(name="canada")
    login_verified(client, fetched.staff["bamako-officer"])

    # Nine with the query of the staff member's time zone (accounts' middleware).
    with django_assert_max_num_queries(9):
        page = client.get(reverse("peers:overview"))

    html = page.content.decode()
    assert page.status_code == 200
    assert "Mali" in html
    assert "Lebanon" not in html
    assert "Stale" in html
    assert "HTTP 500" in html


def test_staff_pages_need_a_staff_sign_in(client, fetched):
    page = client.get(reverse("peers:overview"))
    assert page.status_code == 302
    assert page["Location"].startswith("/admin/login/")


def test_the_include_renders_on_another_page_through_its_tag(fetched):
    html = Template("{% load peers_tags %}{% partner_levels_for 'ML' %}").render(Context({}))
    assert "Level 4: Do Not Travel" in html
    assert "Avoid all travel" in html


def test_healthz_shows_a_stale_source_and_stays_up(client, fetched, feeds):
    feeds.routes["/api/TravelAdvisories"].status = 500
    feeds.routes["/api/TravelAdvisories"].etag = ""
    services.source_fetch(name="us")

    response = client.get("/healthz")

    check = response.json()["checks"]["partner_sources"]
    assert response.status_code == 200
    assert check["ok"] is False
    assert check["critical"] is False
    assert "us stale" in check["detail"]
    assert "HTTP 500" in check["detail"]


def test_the_approver_reads_the_partners_levels_on_the_version_to_approve(client, fetched):
    from advisories import services as advisory_services
    from tests.advisories.conftest import TEXTS

    editor, approver = fetched.staff["bamako-editor"], fetched.staff["bamako-approver"]
    draft = advisory_services.advisory_draft_create(
        country_code="ML", author=editor, fields={**TEXTS, "country_level": 4}
    )
    advisory_services.advisory_submit(advisory=draft, submitted_by=editor)
    login_verified(client, approver)

    html = client.get(f"/staff/advisories/{draft.pk}/").content.decode()

    assert "What partners advise" in html
    assert "Level 4: Do Not Travel" in html
    assert "Avoid all travel" in html
