"""The staff pages speak the design system: times in the post's zone with the zone named,
states as badges with their words, region names instead of codes, and a confirmation after
each action."""

import datetime

import pytest
import time_machine
from django.urls import reverse

from accounts.models import Post
from cases.services import cases as case_services
from tests.accounts.factories import login_verified
from tests.cases.conftest import draft_check

pytestmark = pytest.mark.usefixtures("geography")


@time_machine.travel(datetime.datetime(2026, 7, 1, 12, 0, tzinfo=datetime.UTC), tick=False)
def test_case_page_shows_times_in_the_posts_zone_with_its_name(client, beirut_officer):
    Post.objects.filter(code="post-lb").update(time_zone="Asia/Beirut")
    case = case_services.case_open(
        opened_by=beirut_officer, kind="welfare", country_code="LB", summary="Walk-in."
    )
    login_verified(client, beirut_officer)

    page = client.get(reverse("cases:case_detail", args=[case.id])).content.decode()

    # Beirut is UTC+3 in summer.
    assert "2026-07-01 15:00 EEST" in page
    assert "Times in Asia/Beirut" in page


def test_a_post_without_a_zone_reads_utc(client, bamako_officer):
    case = case_services.case_open(
        opened_by=bamako_officer, kind="welfare", country_code="ML", summary="Walk-in."
    )
    login_verified(client, bamako_officer)

    page = client.get(reverse("cases:case_detail", args=[case.id])).content.decode()

    assert "Times in UTC" in page


def test_assigning_from_the_case_page_confirms_it(client, bamako_officer):
    case = case_services.case_open(
        opened_by=bamako_officer, kind="welfare", country_code="ML", summary="Walk-in."
    )
    login_verified(client, bamako_officer)

    page = client.post(
        reverse("cases:case_detail", args=[case.id]), {"action": "assign_me"}, follow=True
    )

    assert "The case is assigned to you." in page.content.decode()


def test_queue_shows_states_as_badges_with_words_and_region_names(client, bamako_officer):
    case_services.case_open(
        opened_by=bamako_officer,
        kind="welfare",
        country_code="ML",
        region_code="ML-7",
        summary="Walk-in.",
    )
    login_verified(client, bamako_officer)

    page = client.get(reverse("cases:case_queue")).content.decode()

    assert '<span class="badge badge-warn" data-state="new">New</span>' in page
    assert "Gao" in page
    assert ">ML-7<" not in page


def test_check_page_names_its_regions(client, bamako_officer):
    check = draft_check(bamako_officer, region_codes=["ML-7"])
    login_verified(client, bamako_officer)

    page = client.get(reverse("cases:check_board", args=[check.id]), follow=True)

    text = page.content.decode()
    assert "Gao" in text
    assert "ML-7," not in text
    assert "ML-7<" not in text


def test_queue_sorts_by_age_and_the_other_way(client, bamako_officer):
    with time_machine.travel(datetime.datetime(2026, 7, 1, 8, 0, tzinfo=datetime.UTC)):
        case_services.case_open(
            opened_by=bamako_officer, kind="welfare", country_code="ML", summary="Sum old"
        )
    with time_machine.travel(datetime.datetime(2026, 7, 1, 9, 0, tzinfo=datetime.UTC)):
        case_services.case_open(
            opened_by=bamako_officer,
            kind="welfare",
            country_code="ML",
            summary="Sum urgent",
            priority=4,
        )
    with time_machine.travel(datetime.datetime(2026, 7, 1, 10, 0, tzinfo=datetime.UTC)):
        case_services.case_open(
            opened_by=bamako_officer, kind="welfare", country_code="ML", summary="Sum new"
        )
    login_verified(client, bamako_officer)

    def order(**params):
        page = client.get(reverse("cases:case_queue"), params).content.decode()
        rows = [row for row in page.split("<tr data-case") if 'name="case"' in row]
        return [next(s for s in ("old", "urgent", "new") if f"Sum {s}" in row) for row in rows]

    assert order(sort="age") == ["old", "urgent", "new"]
    assert order(sort="-age") == ["new", "urgent", "old"]
    assert order(sort="priority") == ["urgent", "old", "new"]
    assert order(sort="nonsense") == ["urgent", "old", "new"]


def test_queue_filters_stick_until_cleared(client, bamako_officer):
    login_verified(client, bamako_officer)

    client.get(reverse("cases:case_queue"), {"status": "new", "sort": "age"})
    back = client.get(reverse("cases:case_queue"))
    cleared = client.get(reverse("cases:case_queue"), {"clear": "1"})
    bare = client.get(reverse("cases:case_queue"))

    assert back.status_code == 302
    assert back["Location"] == reverse("cases:case_queue") + "?status=new&sort=age"
    assert cleared.status_code == 302
    assert bare.status_code == 200
