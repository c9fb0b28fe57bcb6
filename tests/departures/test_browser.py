"""The issue's browser test, on 390x844 phones in French: a citizen states her intent for
herself and her daughter from her page; staff add a flight of 150 seats and run the
allocation; the offer reaches her by email with her reference; she follows its link and
accepts, and her page shows the same reference and its QR code. At the assembly point an
officer finds her by that reference on the check-in page, checks her in and boards her: her
presence in Mali ends, and her page asks her to say when she arrives. Every page passes axe;
screenshots under test-artifacts."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]
from django.conf import settings
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from departures.models import Boarding, Intent, Offer
from departures.services import allocation
from registrations import tokens
from registrations.models import Presence
from tests.departures.conftest import add_option, citizen
from tests.departures.test_staff_views import signed_in
from tests.registrations.factories import PresenceFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BLOCKING = {"serious", "critical"}


@pytest.fixture(autouse=True)
def eager_tasks(monkeypatch):
    """The offer's fan-out and sending run inline, so its email is in the outbox."""
    from consular.celery import app as celery_app

    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)


def assert_accessible(page, name, artifacts):
    results = Axe().run(page)
    blocking = [
        f"{violation['id']} ({violation['impact']})"
        for violation in results.response["violations"]
        if violation["impact"] in BLOCKING
    ]
    page.screenshot(path=artifacts / f"departures-{name}.png", full_page=True)
    assert blocking == [], f"{name}: {blocking}"


def test_a_mother_asks_to_leave_with_her_daughter_accepts_and_boards_and_leaves_mali(
    browser, live_server, artifacts, operation, officer
):
    aminata = citizen(household=1, language="fr", given_name="Aminata", family_name="Keita")
    PresenceFactory(citizen=aminata, country_id="ML", region_id="ML-7")
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="fr-FR")
    phone = context.new_page()
    base = live_server.url

    # From her page, the short form: she and her daughter leave, from Gao, as soon as possible.
    phone.goto(f"{base}/manage/{tokens.manage_token(aminata.id)}/")
    phone.get_by_role("link", name="Je souhaite partir").click()
    expect(phone.get_by_role("checkbox", name="Moi (Aminata Keita)")).to_be_checked()
    expect(phone.get_by_role("checkbox", name="Member 0")).to_be_checked()
    phone.get_by_label("Où êtes-vous maintenant ?").select_option("ML-7")
    me = phone.get_by_role("group", name="Moi (Aminata Keita)")
    me.get_by_label("Nationalité").fill("Malienne")
    me.get_by_label("Document de voyage").select_option("passport")
    assert_accessible(phone, "intent-form", artifacts)
    phone.get_by_role("button", name="Envoyer ma demande").click()
    expect(phone.get_by_text("Vous avez demandé à partir, pour 2 personnes.")).to_be_visible()
    intent = Intent.objects.get()
    assert (intent.people, intent.region_id) == (2, "ML-7")

    # Staff add a flight of 150 seats and run the allocation: the offer goes out by email.
    add_option(operation, officer, capacity=150, assembly_point="Porte 4, ambassade")
    allocation.allocation_run(operation=operation, run_by=officer)
    [email] = [email for email in mail.outbox if email.to == [aminata.email]]
    assert email.subject.startswith("Une place pour vous : Vol le ")
    link = re.search(r"https?://\S+(/manage/\S+/)", email.body)
    assert link, email.body
    # The message carries her own reference, which her offer holds.
    given = re.search(r"Votre référence : ([0-9A-Z]{8})\.", email.body)
    assert given, email.body
    reference = given.group(1)

    # She follows the link and accepts.
    phone.goto(base + link.group(1))
    expect(phone.get_by_text(re.compile("2 places sont proposées à votre groupe"))).to_be_visible()
    assert_accessible(phone, "offer", artifacts)
    phone.get_by_role("button", name="Accepter").click()
    expect(phone.get_by_text(re.compile("Vos places sont confirmées"))).to_be_visible()
    offer = Offer.objects.get()
    assert (offer.state, offer.reference) == ("accepted", reference)
    # Her page now carries the boarding pass: the reference and its QR code.
    expect(phone.locator(".boarding-pass .reference")).to_have_text(reference)
    expect(phone.get_by_label("Code QR de votre référence").locator("svg")).to_be_visible()
    assert_accessible(phone, "boarding-pass", artifacts)

    # At the assembly point, an officer on her phone, in French, signed in past the second
    # factor: she types (or her scanner app pastes) the reference her message gave.
    desk = browser.new_context(viewport={"width": 390, "height": 844}, locale="fr-FR")
    session = signed_in(officer).cookies[settings.SESSION_COOKIE_NAME].value
    desk.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": base}])
    officer_phone = desk.new_page()
    officer_phone.goto(f"{base}/staff/departures/options/{offer.option_id}/checkin/")
    officer_phone.get_by_label("Nom, référence ou code scanné").fill(reference)
    officer_phone.get_by_role("button", name="Chercher").click()
    aminata_row = officer_phone.locator("li", has_text="Aminata Keita")
    expect(aminata_row).to_contain_text(reference)
    expect(officer_phone.locator("li", has_text="Member 0")).to_be_visible()
    assert_accessible(officer_phone, "checkin-found", artifacts)
    aminata_row.get_by_role("button", name="Présent").click()
    expect(officer_phone.get_by_role("status")).to_contain_text(
        f"Aminata Keita ({reference}) est enregistré(e)."
    )

    # She boards, once the officer confirms: her presence in Mali ends.
    officer_phone.get_by_label("Nom, référence ou code scanné").fill("Aminata")
    officer_phone.get_by_role("button", name="Chercher").click()
    officer_phone.locator("li", has_text="Aminata Keita").get_by_role(
        "button", name="Embarquer"
    ).click()
    expect(officer_phone.get_by_role("heading", name="Confirmer l'embarquement")).to_be_visible()
    assert_accessible(officer_phone, "checkin-confirm", artifacts)
    officer_phone.get_by_role("button", name="Confirmer l'embarquement").click()
    expect(officer_phone.get_by_role("status")).to_contain_text(
        "a embarqué : sa présence dans le pays a pris fin."
    )
    assert_accessible(officer_phone, "checkin-boarded", artifacts)
    assert Boarding.objects.get().state == "boarded"
    presence = Presence.objects.get(citizen=aminata)
    assert presence.end_date == timezone.localdate()
    desk.close()

    # Her page asks her to say when she arrives; she does.
    phone.goto(base + link.group(1))
    assert_accessible(phone, "boarded", artifacts)
    phone.get_by_role("button", name="Je suis arrivé(e)").click()
    expect(phone.get_by_text("Vous nous avez dit être arrivé(e).")).to_be_visible()
    offer.refresh_from_db()
    assert offer.arrived_at is not None
    context.close()
