"""The console in a browser, as a Bamako officer during a crisis: Mali at level 3, the north
at 4, people in Gao and Bamako, an alert on its way, an open check and a case. The page passes
axe and is saved under test-artifacts; a Beirut officer gets 404 on it."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]
from django.utils import timezone
from playwright.sync_api import expect

from bench.sinks import sms_sink, smtp_sink
from cases.services import cases as case_services
from consular.celery import app as celery_app
from notifications.models import Alert, Delivery
from tests.advisories.conftest import publish
from tests.browser.test_advisories import sign_in
from tests.cases.conftest import citizen_in, start_check
from tests.console.test_views import mali_at_level
from tests.notifications.conftest import make_citizen
from tests.notifications.factories import AlertFactory, DeliveryFactory
from tests.notifications.test_end_to_end import _start_worker as start_worker
from tests.notifications.test_end_to_end import _worker_env as worker_env

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BLOCKING = {"serious", "critical"}


def test_bamako_officer_reads_the_mali_console_and_beirut_gets_404(
    page, live_server, artifacts, bamako_officer, beirut_officer
):
    first = mali_at_level(3)
    citizen_in("ML-7", name="Awa", household=2)
    citizen_in("ML-BKO", name="Moussa")
    # Gao goes to 4: a real alert, fanned out and sent to Awa by the eager tasks.
    publish(
        country_code="ML",
        editor=first.author,
        approver=first.approved_by,
        level=3,
        overrides=[("ML-7", 4), ("ML-8", 4)],
    )
    failed = AlertFactory(country_id="ML", region_codes=["ML-BKO"], people=1, messages=1)
    DeliveryFactory(alert=failed, status="failed", provider_id="")
    start_check(bamako_officer, region_codes=["ML-7"])
    case_services.case_open(
        opened_by=bamako_officer,
        kind="welfare",
        country_code="ML",
        region_code="ML-7",
        summary="Family asking for news.",
    )
    base = live_server.url
    page.set_viewport_size({"width": 1280, "height": 900})

    sign_in(page, base, "bamako-officer")
    page.goto(base + "/staff/")

    expect(page).to_have_url(re.compile(r"/staff/countries/ML/$"))
    expect(page.get_by_role("heading", name=re.compile("Mali"))).to_be_visible()
    gao = page.locator('table[data-regions] tr[data-region="ML-7"]')
    expect(gao).to_contain_text("Gao")
    expect(gao).to_contain_text("Do not travel")
    expect(gao).to_contain_text("3")
    expect(page.locator('svg.region-map g[data-region="ML-7"]')).to_have_class(
        re.compile("level-4")
    )
    expect(page.locator("table[data-alerts]")).to_contain_text("Gao: level 3 to 4")
    expect(page.locator("table[data-alerts]")).to_contain_text("Kidal: level 3 to 4")
    expect(page.locator("table[data-checks]")).to_contain_text("0% (0 / 1)")
    expect(page.locator("table[data-cases]")).to_contain_text("New")
    results = Axe().run(page)
    page.screenshot(path=artifacts / "console-mali.png", full_page=True)
    page.locator("svg.region-map").screenshot(path=artifacts / "console-mali-map.png")
    blocking = [
        f"{violation['id']} ({violation['impact']})"
        for violation in results.response["violations"]
        if violation["impact"] in BLOCKING
    ]
    assert blocking == []

    # The check's layer: who in Gao answered.
    page.get_by_role("link", name="Open safety checks").click()
    expect(page.locator('svg.region-map g[data-region="ML-7"]')).to_have_class(
        re.compile("check-low")
    )
    page.screenshot(path=artifacts / "console-mali-checks.png", full_page=True)
    page.locator("svg.region-map").screenshot(path=artifacts / "console-mali-map-checks.png")

    sign_in(page, base, "beirut-officer")
    response = page.goto(base + "/staff/countries/ML/")
    assert response is not None
    assert response.status == 404


def test_alert_page_counts_move_without_a_reload_and_beirut_gets_404(
    page, live_server, artifacts, bamako_officer, beirut_officer
):
    people = [citizen_in("ML-7", name=name) for name in ("Awa", "Moussa", "Fanta")]
    alert = AlertFactory(country_id="ML", region_codes=["ML-7"], people=3, messages=3)
    for citizen in people:
        DeliveryFactory(
            alert=alert, citizen=citizen, status="pending", provider_id="", sent_at=None
        )
    base = live_server.url
    page.set_viewport_size({"width": 1024, "height": 900})
    sign_in(page, base, "bamako-officer")

    page.goto(base + f"/staff/alerts/{alert.id}/")
    expect(page.locator("[data-people]")).to_have_text("0 reached of 3")
    page.evaluate("window.notReloaded = true")

    # The workers hand the messages off and a receipt comes back: the page follows by itself.
    Delivery.objects.filter(alert=alert).update(status="delivered", sent_at=timezone.now())
    Alert.objects.filter(id=alert.id).update(state="done")

    expect(page.locator("[data-people]")).to_have_text("3 reached of 3", timeout=15_000)
    expect(page.locator('#alert-progress li[data-status="delivered"]')).to_contain_text("3")
    assert page.evaluate("window.notReloaded") is True
    assert page.locator("#alert-progress[hx-trigger]").count() == 0
    results = Axe().run(page)
    page.screenshot(path=artifacts / "console-alert.png", full_page=True)
    blocking = [
        f"{violation['id']} ({violation['impact']})"
        for violation in results.response["violations"]
        if violation["impact"] in BLOCKING
    ]
    assert blocking == []

    sign_in(page, base, "beirut-officer")
    for url in (f"/staff/alerts/{alert.id}/", f"/staff/alerts/{alert.id}/progress/"):
        response = page.goto(base + url)
        assert response is not None
        assert response.status == 404


def test_every_staff_page_passes_axe(page, live_server, artifacts, bamako_officer):
    citizen_in("ML-7", name="Awa")
    check = start_check(bamako_officer, region_codes=["ML-7"])
    case = case_services.case_open(
        opened_by=bamako_officer,
        kind="welfare",
        country_code="ML",
        region_code="ML-7",
        summary="Family asking for news.",
    )
    alert = AlertFactory(country_id="ML", region_codes=["ML-7"], people=1, messages=1)
    DeliveryFactory(alert=alert, status="failed", provider_id="")
    base = live_server.url
    page.set_viewport_size({"width": 1024, "height": 900})
    sign_in(page, base, "bamako-officer")
    pages = {
        "console": "/staff/countries/ML/",
        "alert": f"/staff/alerts/{alert.id}/?confirm=resend_failed",
        "queue": "/staff/cases/",
        "case": f"/staff/cases/{case.id}/",
        "checks": "/staff/checks/",
        "board": f"/staff/checks/{check.id}/",
        "check-new": "/staff/checks/new/",
    }

    failures = []
    for name, url in pages.items():
        page.goto(base + url)
        results = Axe().run(page)
        page.screenshot(path=artifacts / f"staff-{name}.png", full_page=True)
        failures += [
            f"{name}: {violation['id']} ({violation['impact']})"
            for violation in results.response["violations"]
            if violation["impact"] in BLOCKING
        ]

    assert failures == []


@pytest.mark.postgres
@pytest.mark.broker
def test_alert_page_follows_a_real_fan_out_by_a_worker_without_a_reload(
    page, live_server, artifacts, bamako_officer, monkeypatch
):
    # Tasks go to the broker here, not inline (this folder's fixture runs them inline).
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
    first = mali_at_level(3)
    # The first version's fan-out, queued with nobody to tell, is not this test's.
    celery_app.control.purge()
    for name in ("Awa", "Moussa", "Fanta", "Oumar"):
        make_citizen("ML-7", name=name)
    base = live_server.url
    page.set_viewport_size({"width": 1024, "height": 900})
    sign_in(page, base, "bamako-officer")

    # Gao goes to 4: the alert is written and its fan-out queued on the broker, where no
    # worker takes it yet; the officer opens its page.
    publish(
        country_code="ML",
        editor=first.author,
        approver=first.approved_by,
        level=3,
        overrides=[("ML-7", 4)],
    )
    alert = Alert.objects.exclude(advisory=first).get()
    page.goto(base + f"/staff/alerts/{alert.id}/")
    expect(page.locator("[data-people]")).to_contain_text("0 reached")
    page.evaluate("window.notReloaded = true")
    page.screenshot(path=artifacts / "console-alert-before-fan-out.png", full_page=True)

    # A real worker finds the recipients, writes the ledger and sends to the sinks on
    # loopback; the page follows by itself.
    with smtp_sink() as smtp, sms_sink() as sms:
        worker = start_worker(worker_env(smtp.port, sms.url))
        try:
            expect(page.locator("[data-people]")).to_have_text("4 reached of 4", timeout=60_000)
        finally:
            worker.terminate()
            worker.wait(timeout=30)

    sent = page.locator('#alert-progress li[data-status="sent"]')
    expect(sent).to_have_count(2)  # email and SMS, four each
    expect(sent.first).to_contain_text("4")
    expect(sent.last).to_contain_text("4")
    assert page.evaluate("window.notReloaded") is True
    page.screenshot(path=artifacts / "console-alert-after-fan-out.png", full_page=True)
