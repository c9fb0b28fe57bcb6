"""Part of the issue's browser test, on a 390x844 phone in French: a citizen states her intent
for herself and her daughter from her page; staff add a flight of 150 seats and run the
allocation; the offer reaches her by email; she follows its link and accepts. (Check-in and
boarding are not built yet.) The citizen's pages pass axe."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]
from django.core import mail
from playwright.sync_api import expect

from departures.models import Intent, Offer
from departures.services import allocation
from registrations import tokens
from tests.departures.conftest import add_option, citizen
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


def test_a_mother_asks_to_leave_with_her_daughter_and_accepts_the_seats_offered(
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

    # She follows the link and accepts.
    phone.goto(base + link.group(1))
    expect(phone.get_by_text(re.compile("2 places sont proposées à votre groupe"))).to_be_visible()
    assert_accessible(phone, "offer", artifacts)
    phone.get_by_role("button", name="Accepter").click()
    expect(phone.get_by_text(re.compile("Vos places sont confirmées"))).to_be_visible()
    assert Offer.objects.get().state == "accepted"
    context.close()
