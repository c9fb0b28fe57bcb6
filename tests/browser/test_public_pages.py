"""Item 6 of issue 16, as a person on a 390px phone: the submit buttons are the stylesheet's,
full width and easy to tap; a form sent back with errors opens on the list of them, focused,
each a link to its field; the help pages give the post's emergency number to tap and the
case's reference. axe finds nothing serious or critical on any of these pages."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]
from playwright.sync_api import Page, expect

from accounts.models import Membership, Post
from cases.models import Case
from cases.panels import ask_help_token
from registrations import tokens
from tests.accounts.factories import PostFactory, staff_at
from tests.departures.conftest import citizen, open_operation
from tests.notifications.conftest import make_citizen
from tests.registrations.factories import PresenceFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("geography"),
]

BLOCKING = {"serious", "critical"}
ACCENT = "rgb(11, 79, 138)"


def assert_accessible(page: Page, name: str, artifacts) -> None:
    results = Axe().run(page)
    blocking = [
        f"{violation['id']} ({violation['impact']}): "
        + ", ".join(node["target"][0] for node in violation["nodes"][:3])
        for violation in results.response["violations"]
        if violation["impact"] in BLOCKING
    ]
    page.screenshot(path=artifacts / f"public-{name}.png", full_page=True)
    assert blocking == [], f"{name}: {blocking}"


def assert_a_main_button(page: Page, name: str) -> None:
    """Filled with the accent colour, as wide as the column, at least 48px high."""
    button = page.get_by_role("button", name=name)
    box = button.bounding_box()
    column = page.locator("main").bounding_box()
    assert box is not None
    assert column is not None
    assert box["height"] >= 48
    assert box["width"] >= column["width"] - 2 * 16 - 40  # the main's padding, a fieldset's
    assert button.evaluate("b => getComputedStyle(b).backgroundColor") == ACCENT
    assert button.evaluate("b => getComputedStyle(b).color") == "rgb(255, 255, 255)"


def test_registration_errors_on_a_phone_open_on_their_list_focused_and_linked(
    page, live_server, artifacts
):
    page.goto(live_server.url + "/register/")
    page.get_by_role("button", name="Français").click()
    page.wait_for_load_state()
    assert_a_main_button(page, "M'inscrire")
    page.get_by_label("Courriel", exact=False).first.fill("pas-une-adresse")

    page.get_by_role("button", name="M'inscrire").click()

    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    expect(summary.get_by_role("heading")).to_have_text("Il y a un problème")
    expect(summary).to_be_focused()
    link = summary.get_by_role("link", name=re.compile("^Courriel : "))
    assert_accessible(page, "register-error-summary", artifacts)
    page.screenshot(path=artifacts / "public-register-error-summary-phone.png")
    link.click()
    assert page.url.endswith("#id_person-email")
    expect(page.locator("#id_person-email")).to_be_in_viewport()
    # A checkbox stands beside its label, however long the label.
    consent = page.locator("#id_person-consent")
    consent.scroll_into_view_if_needed()
    box = consent.bounding_box()
    label = page.locator("label[for=id_person-consent]").bounding_box()
    assert box is not None
    assert label is not None
    assert label["x"] > box["x"] + box["width"]
    assert label["y"] < box["y"] + box["height"]
    page.screenshot(path=artifacts / "public-register-consent-phone.png")


def test_asking_for_help_on_a_phone_gives_the_number_to_tap_and_a_reference(
    page, live_server, artifacts
):
    PostFactory(code="post-ml", name="Embassy in Bamako", countries=["ML"])
    Post.objects.filter(code="post-ml").update(emergency_phone="+223 70 00 00 00")
    awa = make_citizen("ML-7", name="Awa")
    page.goto(live_server.url + f"/help/{ask_help_token(awa.id)}/")

    emergency = page.get_by_role("link", name="+223 70 00 00 00")
    expect(emergency).to_have_attribute("href", "tel:+22370000000")
    assert_a_main_button(page, "Send my request")
    people = page.get_by_label("How many people are with you (you included)?")
    people.fill("0")
    page.get_by_role("button", name="Send my request").click()
    expect(page.locator(".error-summary")).to_be_focused()
    assert_accessible(page, "help-errors", artifacts)

    page.get_by_label("What help do you need?").select_option("medical")
    people.fill("2")
    page.get_by_role("button", name="Send my request").click()

    reference = Case.objects.get(citizen=awa).reference
    expect(page.locator(".reference-code")).to_have_text(reference)
    expect(page.get_by_role("link", name="+223 70 00 00 00")).to_be_visible()
    assert_accessible(page, "help-sent", artifacts)


def test_the_departure_form_on_a_phone_in_french(page, live_server, artifacts):
    PostFactory(code="post-ml", name="Embassy in Bamako", countries=["ML"])
    open_operation(
        staff_at("ML", Membership.Role.OFFICER, username="bamako-officer"),
        staff_at("ML", Membership.Role.OFFICER, username="bamako-second"),
    )
    aminata = citizen(household=1, language="fr", given_name="Aminata")
    PresenceFactory(citizen=aminata, country_id="ML", region_id="ML-7")
    page.goto(live_server.url + "/")
    page.get_by_role("button", name="Français").click()
    page.goto(live_server.url + f"/departure/{tokens.manage_token(aminata.id)}/")

    assert_a_main_button(page, "Envoyer ma demande")
    for box in page.locator("input[name=travellers]").all():
        box.uncheck()
    page.get_by_role("button", name="Envoyer ma demande").click()

    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link", name=re.compile("^Qui part"))).to_be_visible()
    assert_accessible(page, "departure-errors", artifacts)
