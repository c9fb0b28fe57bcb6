"""The board and the queue in a browser, as a Bamako officer during an open check: the share
answered moves without a reload when an answer arrives; the queue sorted by age, with the
oldest overdue, and two cases assigned to a colleague at once. Each page passes axe and is
saved under test-artifacts; a Beirut officer gets 404 on every one of them."""

import datetime
import re

import pytest
from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Membership
from cases.models import Case, CaseEvent, SafetyResponse
from cases.services import cases as case_services
from cases.services import safety_checks
from tests.accounts.factories import staff_at
from tests.browser.test_advisories import sign_in
from tests.cases.conftest import citizen_in, start_check
from tests.notifications.conftest import make_citizen

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BLOCKING = {"serious", "critical"}


def assert_accessible(page, name, artifacts):
    results = Axe().run(page)
    page.screenshot(path=artifacts / f"cases-{name}.png", full_page=True)
    blocking = [
        f"{violation['id']} ({violation['impact']})"
        for violation in results.response["violations"]
        if violation["impact"] in BLOCKING
    ]
    assert blocking == [], f"{name}: {blocking}"


def test_board_follows_answers_and_the_queue_assigns_by_age(
    page, live_server, artifacts, bamako_officer, beirut_officer
):
    awa = citizen_in("ML-7", name="Awa", household=1)
    citizen_in("ML-7", name="Moussa")
    make_citizen(None, country_code="ML", name="Fanta")
    check = start_check(bamako_officer, region_codes=["ML-7", "ML-BKO"])
    colleague = staff_at("ML", Membership.Role.OFFICER, username="bamako-colleague")
    base = live_server.url
    page.set_viewport_size({"width": 1024, "height": 900})
    sign_in(page, base, "bamako-officer")

    page.goto(base + f"/staff/checks/{check.id}/")
    expect(page.locator("[data-answered]")).to_have_text("0% answered (0 of 3)")
    expect(page.locator('tr[data-region="ML-7"] th')).to_have_text("Gao")
    expect(page.locator('tr[data-region="none"] th')).to_have_text(
        "Somewhere in the country (no region given)"
    )
    expect(page.locator('table[data-people-list="pending"] a.call').first).to_have_attribute(
        "href", re.compile(r"^tel:\+223")
    )
    page.evaluate("window.notReloaded = true")

    # Awa answers by text message: the board follows by itself.
    safety_checks.response_record(
        check=check,
        citizen_id=awa.id,
        answer=safety_checks.Answer(
            status=SafetyResponse.Status.NEEDS_HELP,
            via=SafetyResponse.Via.SMS,
            help_kind=SafetyResponse.HelpKind.EVACUATION,
        ),
    )

    expect(page.locator("[data-answered]")).to_have_text("33% answered (1 of 3)", timeout=15_000)
    expect(page.locator('tr[data-region="ML-7"] td').first).to_have_text("50% (1 / 2)")
    expect(page.locator("svg.line-chart circle")).to_have_count(1)
    assert page.evaluate("window.notReloaded") is True
    assert_accessible(page, "board", artifacts)

    # The queue: three cases of different ages; sorted by age, the oldest is overdue.
    case_services.case_open(
        opened_by=bamako_officer, kind="welfare", country_code="ML", summary="Walk-in"
    )
    passport = case_services.case_open(
        opened_by=bamako_officer,
        kind="documents",
        country_code="ML",
        region_code="ML-BKO",
        summary="Lost passport",
        priority=Case.Priority.URGENT,
    )
    Case.objects.filter(id=passport.id).update(
        created_at=timezone.now() - datetime.timedelta(hours=3)
    )
    page.goto(base + "/staff/cases/")
    page.get_by_role("link", name="Age").click()
    rows = page.locator("table.queue tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.first).to_contain_text("Lost passport")
    expect(rows.first.locator("[data-sla]")).to_contain_text("Overdue by 2 h")
    rows.nth(0).get_by_role("checkbox").check()
    rows.nth(1).get_by_role("checkbox").check()
    page.get_by_label("or to").select_option(label="bamako-colleague")
    page.get_by_role("button", name="Assign the selected cases", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("2 cases assigned to bamako-colleague.")
    assert_accessible(page, "queue", artifacts)
    assert Case.objects.filter(assignee=colleague).count() == 2
    assert CaseEvent.objects.filter(kind=CaseEvent.Kind.ASSIGNED).count() == 2

    # The case Awa's answer opened: what she asked for and her number first.
    help_case = Case.objects.get(citizen=awa)
    page.goto(base + f"/staff/cases/{help_case.id}/")
    expect(page.locator('dd[data-field="where"]')).to_contain_text("Gao, Mali")
    expect(page.locator("a[data-call]")).to_have_attribute("href", f"tel:{awa.phone}")
    assert_accessible(page, "case-head", artifacts)

    sign_in(page, base, "beirut-officer")
    for url in (
        f"/staff/checks/{check.id}/",
        f"/staff/checks/{check.id}/progress/",
        f"/staff/checks/{check.id}/export.csv?status=no_response",
        f"/staff/cases/{help_case.id}/",
    ):
        response = page.goto(base + url)
        assert response is not None
        assert response.status == 404, url
