"""A person registers on a phone in French, confirms the email, adds a trip, checks out and
deletes everything; every citizen page passes axe with no serious or critical violation."""

import datetime
import re
import time

import pytest
from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]
from django.core import mail
from django.utils import timezone

from registrations.models import Citizen, HouseholdMember, Presence

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("geography"),
]

BLOCKING = {"serious", "critical"}


@pytest.fixture
def axe():
    return Axe()


def assert_accessible(axe, page, name, artifacts):
    results = axe.run(page)
    blocking = [
        f"{violation['id']} ({violation['impact']}): "
        + ", ".join(node["target"][0] for node in violation["nodes"][:3])
        for violation in results.response["violations"]
        if violation["impact"] in BLOCKING
    ]
    page.screenshot(path=artifacts / f"registrations-{name}.png", full_page=True)
    assert blocking == [], f"{name}: {blocking}"


def link_in(message, path):
    match = re.search(rf"https?://\S+({path}\S+)", message.body)
    assert match, message.body
    return match.group(1)


def test_register_in_french_on_a_phone_then_manage_and_delete(
    page, live_server, settings, axe, artifacts
):
    settings.SITE_URL = live_server.url
    page.set_default_timeout(10_000)
    today = timezone.localdate()

    page.goto(live_server.url + "/register/")
    page.get_by_role("button", name="Français").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "fr"
    assert_accessible(axe, page, "register", artifacts)

    started = time.monotonic()
    page.get_by_label("Pays").select_option("ML")
    page.get_by_role("button", name="Afficher les régions").click()
    page.get_by_label("Région").select_option("ML-7")
    page.get_by_label("Ville ou lieu").fill("Gao")
    page.get_by_label("Du", exact=False).first.fill(today.isoformat())
    page.get_by_label("Prénoms").fill("Awa")
    page.get_by_label("Nom de famille").fill("Traoré")
    page.get_by_label("Courriel", exact=False).first.fill("awa.browser@example.org")
    page.get_by_label("Téléphone mobile").fill("+223 70 00 02 02")
    page.locator("#id_household-0-name").fill("Moussa Traoré")
    page.get_by_label("Lien avec vous").fill("enfant")
    page.get_by_label("J'accepte", exact=False).check()
    page.get_by_role("button", name="M'inscrire").click()
    page.get_by_role("heading", name="Consultez vos courriels").wait_for()
    assert time.monotonic() - started < 60
    assert_accessible(axe, page, "thanks", artifacts)

    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "Confirmez votre adresse électronique"
    page.goto(live_server.url + link_in(mail.outbox[0], "/verify-email/"))
    page.get_by_role("heading", name="Courriel confirmé").wait_for()
    assert_accessible(axe, page, "email-confirmed", artifacts)
    citizen = Citizen.objects.get()
    assert citizen.email_verified_at is not None

    page.get_by_role("link", name="Gérer mon inscription").click()
    page.get_by_role("heading", name="Mon inscription").wait_for()
    assert_accessible(axe, page, "manage", artifacts)

    page.get_by_role("link", name="Ajouter un voyage").click()
    page.get_by_label("Pays").select_option("LB")
    page.get_by_role("button", name="Afficher les régions").click()
    page.get_by_label("Région").select_option("LB-BA")
    page.locator("#id_legs-0-start_date").fill(today.isoformat())
    page.locator("#id_legs-0-end_date").fill((today + datetime.timedelta(days=5)).isoformat())
    assert_accessible(axe, page, "trip", artifacts)
    page.get_by_role("button", name="Ajouter ce voyage").click()
    page.get_by_role("heading", name="Mon inscription").wait_for()
    trip = Presence.objects.get(kind="trip")
    assert trip.region_id == "LB-BA"

    page.get_by_role("button", name=re.compile("Je suis parti.*Liban")).click()
    page.get_by_role("heading", name="Mon inscription").wait_for()
    trip.refresh_from_db()
    assert trip.end_date == today

    page.get_by_role("link", name="Modifier mes informations").click()
    assert_accessible(axe, page, "edit", artifacts)
    page.go_back()
    page.get_by_role("link", name="confirmer ce numéro").click()
    assert_accessible(axe, page, "phone", artifacts)
    page.go_back()

    page.get_by_role("link", name="Supprimer mon inscription").click()
    assert_accessible(axe, page, "delete", artifacts)
    page.get_by_role("button", name="Tout supprimer").click()
    page.get_by_role("heading", name="Votre inscription est supprimée").wait_for()
    assert_accessible(axe, page, "deleted", artifacts)
    assert Citizen.objects.count() == HouseholdMember.objects.count() == 0
    assert Presence.objects.count() == 0


def test_manage_link_request_and_invalid_link_pages_are_accessible(
    page, live_server, axe, artifacts
):
    page.goto(live_server.url + "/manage/")
    assert_accessible(axe, page, "manage-request", artifacts)
    page.get_by_label("Email you registered with").fill("nobody@example.org")
    page.get_by_role("button", name="Send me a link").click()
    page.get_by_role("status").wait_for()
    assert_accessible(axe, page, "manage-request-sent", artifacts)

    page.goto(live_server.url + "/manage/expired-token/")
    assert_accessible(axe, page, "link-invalid", artifacts)


def test_form_errors_are_announced_and_accessible(page, live_server, axe, artifacts):
    page.goto(live_server.url + "/register/")
    page.get_by_label("Mobile phone").fill("12")
    page.get_by_role("button", name="Register").click()
    page.get_by_role("alert").first.wait_for()

    assert page.get_by_label("Mobile phone").get_attribute("aria-invalid") == "true"
    assert_accessible(axe, page, "register-errors", artifacts)
