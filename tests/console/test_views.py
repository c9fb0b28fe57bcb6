"""The country console: the map and table of regions by level with the people present, the
advisory, the alerts, the open checks and the cases, scoped to the staff member's posts, in
a number of queries that does not grow with the country."""

import pytest
from django.urls import reverse

from accounts.models import Membership, Post, User
from cases.services import cases as case_services
from tests.accounts.factories import MembershipFactory, login_verified, staff_at
from tests.advisories.conftest import publish
from tests.cases.conftest import citizen_in, start_check
from tests.notifications.factories import AlertFactory, DeliveryFactory

pytestmark = pytest.mark.usefixtures("geography")

MALI = ["ML-1", "ML-2", "ML-3", "ML-4", "ML-5", "ML-6", "ML-7", "ML-8", "ML-9", "ML-10"]


def mali_at_level(level=2, overrides=(), **fields):
    """Publish a version of Mali's advisory; called again, the same editor and approver
    publish the next version over it."""
    editor = User.objects.filter(username="ml-editor").first() or staff_at(
        "ML", Membership.Role.EDITOR, username="ml-editor"
    )
    approver = User.objects.filter(username="ml-approver").first() or staff_at(
        "ML", Membership.Role.APPROVER, username="ml-approver"
    )
    return publish(
        country_code="ML",
        editor=editor,
        approver=approver,
        level=level,
        overrides=overrides,
        **fields,
    )


def console_url(code="ML"):
    return reverse("console:country", args=[code])


def test_console_shows_each_region_by_name_with_its_level_and_people(client, bamako_officer):
    mali_at_level(2, overrides=[("ML-7", 4)])
    citizen_in("ML-7", name="Awa", household=2)
    citizen_in(None, country_code="ML", name="Moussa")
    login_verified(client, bamako_officer)

    response = client.get(console_url())

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    assert '<tr data-region="ML-7"><th scope="row">Gao</th>' in page
    assert '<g class="marker level-4" data-region="ML-7">' in page
    assert '<g class="marker level-2" data-region="ML-1">' in page
    assert '<g class="outline tinted level-2" data-outline' in page  # Mali's real outline
    assert "Natural Earth (public domain)" in page
    assert "3 people" in page  # Awa and her household, beside her region
    assert "No region given" in page  # Moussa, who named no region: a tile under the outline
    assert '<g class="tile level-2" data-region="">' in page
    assert ">ML-7<" not in page


def test_console_shows_alert_progress_open_checks_and_cases(
    client, bamako_officer, django_capture_on_commit_callbacks
):
    citizen_in("ML-7", name="Awa")
    alert = AlertFactory(
        country_id="ML",
        kind="level_change",
        advisory=mali_at_level(3),
        people=2,
        messages=3,
        changes=[{"region_code": "ML-7", "old_level": 3, "new_level": 4}],
    )
    DeliveryFactory(alert=alert, status="delivered")
    DeliveryFactory(alert=alert, status="failed", provider_id="")
    DeliveryFactory(alert=alert, status="pending", provider_id="")
    check = start_check(bamako_officer, django_capture_on_commit_callbacks)
    case_services.case_open(
        opened_by=bamako_officer, kind="welfare", country_code="ML", summary="Walk-in."
    )
    login_verified(client, bamako_officer)

    page = client.get(console_url()).content.decode()

    assert "Gao: level 3 to 4" in page
    assert '<progress max="3" value="1"' in page
    assert "1 on their way" in page
    assert check.code in page
    assert "0% (0 / 1)" in page
    assert 'data-state="new">New</span>' in page


def test_staff_of_another_post_get_404(client, beirut_officer):
    login_verified(client, beirut_officer)

    assert client.get(console_url("ML")).status_code == 404
    assert client.get(console_url("LB")).status_code == 200


def test_advisory_editors_see_no_console(client):
    editor = staff_at("ML", Membership.Role.EDITOR, username="ml-editor")
    login_verified(client, editor)

    assert client.get(console_url("ML")).status_code == 404


def test_unknown_country_is_404(client, bamako_officer):
    login_verified(client, bamako_officer)

    assert client.get(console_url("ZZ")).status_code == 404


def test_anonymous_is_sent_to_sign_in(client, geography):
    response = client.get(console_url())

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_staff_of_one_country_land_on_its_console(client, bamako_officer):
    login_verified(client, bamako_officer)

    response = client.get(reverse("console:landing"))

    assert response.status_code == 302
    assert response["Location"] == console_url("ML")


def test_staff_of_two_countries_choose_one(client, bamako_officer, beirut_officer):
    MembershipFactory(
        user=bamako_officer, post=Post.objects.get(code="post-lb"), role=Membership.Role.OFFICER
    )
    login_verified(client, bamako_officer)

    response = client.get(reverse("console:landing"))

    assert response.status_code == 200
    page = response.content.decode()
    assert console_url("ML") in page
    assert console_url("LB") in page


@pytest.mark.parametrize("count", [2, 10])
def test_console_query_count_does_not_grow_with_regions_or_people(
    client, bamako_officer, django_capture_on_commit_callbacks, django_assert_max_num_queries, count
):
    # A version over an earlier one: the console shows what it changed, region by region.
    mali_at_level(2)
    mali_at_level(3, overrides=[(code, 4) for code in MALI[:count]])
    for region in MALI[:count]:
        for _ in range(2):
            citizen_in(region, household=1)
        alert = AlertFactory(country_id="ML", region_codes=[region])
        DeliveryFactory(alert=alert, status="failed", provider_id="")
        case_services.case_open(
            opened_by=bamako_officer,
            kind="welfare",
            country_code="ML",
            region_code=region,
            summary="Walk-in.",
        )
    start_check(bamako_officer, django_capture_on_commit_callbacks, region_codes=MALI[:count])
    login_verified(client, bamako_officer)

    # 18 for the console's own reads, 5 for what the current version changed (the version it
    # replaced, both versions' advice by region, the changed regions' names), 4 for the
    # partners' levels (peers.selectors).
    with django_assert_max_num_queries(27):
        assert client.get(console_url()).status_code == 200


def test_map_layers_show_the_open_checks_answers_and_the_people_nobody_can_reach(
    client, bamako_officer, django_capture_on_commit_callbacks
):
    citizen_in("ML-7", name="Awa")
    citizen_in("ML-7", name="Moussa", sms=False, email_verified=False)
    start_check(bamako_officer, django_capture_on_commit_callbacks, region_codes=["ML-7"])
    login_verified(client, bamako_officer)

    checks = client.get(console_url(), {"layer": "check"}).content.decode()
    unreachable = client.get(console_url(), {"layer": "unreachable"}).content.decode()
    unknown = client.get(console_url(), {"layer": "nonsense"}).content.decode()

    # Moussa has no verified channel: only Awa was asked.
    assert '<g class="marker check-low" data-region="ML-7">' in checks
    assert "0% answered" in checks
    assert '<g class="marker check-none" data-region="ML-1">' in checks
    assert '<g class="marker unreachable-some" data-region="ML-7">' in unreachable
    assert "1 with no channel" in unreachable
    assert '<g class="marker level-none" data-region="ML-7">' in unknown


def test_the_console_shows_what_partners_advise_beside_ours(client, bamako_officer):
    from django.utils import timezone

    from peers.models import PartnerAdvice

    mali_at_level(3)
    now = timezone.now()
    PartnerAdvice.objects.create(
        source="us",
        country_id="ML",
        level=4,
        level_max=4,
        label="Level 4: Do Not Travel",
        scope="country",
        link="https://travel.state.gov/mali",
        fetched_at=now,
        level_changed_at=now,
    )
    login_verified(client, bamako_officer)

    page = client.get(console_url()).content.decode()

    assert "What partners advise" in page
    assert "Level 4: Do Not Travel" in page
    assert "Higher than ours" in page


def test_the_console_shows_what_the_current_version_changed_by_region_name(client, bamako_officer):
    mali_at_level(2, indicators=["crime"])
    mali_at_level(
        3,
        overrides=[("ML-7", 4, "Leave Gao now.", "Quittez Gao maintenant.")],
        posture="ordered_departure",
        indicators=["crime", "terrorism"],
    )
    login_verified(client, bamako_officer)

    page = client.get(console_url()).content.decode()

    assert "What it changed over version 1" in page
    diff = page[page.index("data-diff-regions") : page.index("data-indicators")]
    assert '<th scope="row">Gao</th>' in diff
    assert "<ins>Leave Gao now.</ins>" in diff
    assert "<del>2 " in diff
    assert "<ins>3 " in diff
    assert "<ins>Ordered departure</ins>" in diff
    assert "ML-7" not in diff
    indicators = page[
        page.index("data-indicators") : page.index("</dd>", page.index("data-indicators"))
    ]
    assert "Terrorism" in indicators
    assert "Before: Crime" in indicators


def test_the_console_of_a_first_version_says_it_had_none_before(client, bamako_officer):
    mali_at_level(2)
    login_verified(client, bamako_officer)

    page = client.get(console_url()).content.decode()

    assert "What it changed: the country's first version" in page
