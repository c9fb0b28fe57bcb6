"""The issue's browser test: an officer writes a check for ML-7 and a second person approves
it, both having seen its reach; a citizen answers "I need help"
through the email link, the case appears in the Bamako queue, an officer assigns it to
themselves, adds a note and resolves it. The citizen's pages pass axe."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]
from django.core import mail
from playwright.sync_api import expect

from cases.models import Case
from tests.browser.test_advisories import sign_in
from tests.cases.conftest import citizen_in, second_person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BLOCKING = {"serious", "critical"}


def assert_accessible(page, name, artifacts):
    results = Axe().run(page)
    blocking = [
        f"{violation['id']} ({violation['impact']})"
        for violation in results.response["violations"]
        if violation["impact"] in BLOCKING
    ]
    page.screenshot(path=artifacts / f"cases-{name}.png", full_page=True)
    assert blocking == [], f"{name}: {blocking}"


def test_check_help_answer_case_worked_to_resolution(
    page, live_server, artifacts, bamako_officer, beirut_officer
):
    citizen_in("ML-7", name="Awa", household=1)
    citizen_in("ML-1", name="Moussa")
    base = live_server.url

    # An officer writes a check for ML-7, sees whom it would ask, and submits it.
    approver = second_person("ML")
    sign_in(page, base, "bamako-officer")
    page.goto(base + "/staff/checks/new/")
    page.get_by_label("Country").select_option("ML")
    page.get_by_label("Regions").select_option(["ML-7"])
    page.get_by_label("Question (English)").fill("Fighting reported in Gao. Are you safe?")
    page.get_by_label("Deadline").fill("2099-01-01T10:00")
    page.get_by_role("button", name="Save the draft").click()
    expect(page.locator("[data-reach]")).to_have_text("1 people, 2 messages")
    page.get_by_role("button", name="Submit for approval").click()
    assert not mail.outbox

    # A second person of the post approves it, having seen the same reach: it starts.
    sign_in(page, base, approver.username)
    page.goto(base + "/staff/checks/")
    page.get_by_role("link", name=re.compile("Gao")).click()
    expect(page.locator("[data-reach]")).to_have_text("1 people, 2 messages")
    page.get_by_role("button", name="Approve and start the check").click()
    sign_in(page, base, "bamako-officer")
    page.goto(base + "/staff/checks/")
    page.get_by_role("link", name=re.compile("Gao")).click()
    expect(page.get_by_role("heading", name=re.compile("Safety check"))).to_be_visible()
    expect(page.locator("[data-approval]")).to_have_text(f"Approved by {approver.username}")
    expect(page.locator('tfoot td[data-status="pending"]')).to_have_text("1 (2)")

    # The citizen answers "I need help" through the link in the email.
    [email] = mail.outbox
    help_link = re.search(r"https?://\S+(/safety/\S+/help/)", email.body)
    assert help_link, email.body
    citizen = page.context.browser.new_context(viewport={"width": 390, "height": 844})
    phone = citizen.new_page()
    phone.goto(base + help_link.group(1))
    phone.get_by_label("What help do you need?").select_option("evacuation")
    phone.get_by_label("How many people are with you (you included)?").fill("2")
    phone.get_by_label("Where are you?").fill("Hotel Atlantide, Gao")
    assert_accessible(phone, "help-form", artifacts)
    phone.get_by_role("button", name="Send my request").click()
    expect(phone.get_by_role("status")).to_contain_text("We have received your request")
    assert_accessible(phone, "help-done", artifacts)
    citizen.close()

    # The case appears in the Bamako queue; the officer works it to resolution.
    page.goto(base + "/staff/cases/")
    row = page.get_by_role("link", name=re.compile("Evacuation · Awa"))
    expect(row).to_be_visible()
    row.click()
    page.get_by_role("button", name="Assign to me").click()
    expect(page.locator('dd[data-field="assignee"]')).to_have_text("bamako-officer")
    page.get_by_label("Text").fill("Called her: bus to Bamako at 6 tomorrow.")
    page.get_by_role("button", name="Add to the timeline").click()
    expect(page.locator(".timeline")).to_contain_text("bus to Bamako")
    page.get_by_label("Status").select_option("resolved")
    page.get_by_role("button", name="Change status").click()
    expect(page.locator('dd[data-field="status"]')).to_have_text("Resolved")
    page.screenshot(path=artifacts / "cases-case-resolved.png", full_page=True)

    case = Case.objects.get()
    assert (case.status, case.assignee, case.post.code) == (
        "resolved",
        bamako_officer,
        "post-ml",
    )
    assert list(case.events.values_list("kind", flat=True)) == [
        "opened",
        "assigned",
        "note",
        "status",
    ]

    # Beirut sees nothing of it.
    sign_in(page, base, "beirut-officer")
    response = page.goto(base + f"/staff/cases/{case.id}/")
    assert response is not None
    assert response.status == 404
