import re
import secrets

import pytest
from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]
from django.core import mail
from playwright.sync_api import Page, expect

from accounts import mfa
from accounts.models import Membership, User
from advisories import services
from advisories.events import Notify
from core import sms
from tests.accounts.factories import staff_at, totp_code
from tests.advisories.conftest import TEXTS, publish
from tests.notifications.conftest import make_citizen
from tests.registrations.factories import PresenceFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"
CHANGELIST = "/admin/advisories/advisory/"


def sign_in(page: Page, base_url: str, username: str) -> None:
    user = User.objects.get(username=username)
    device = mfa.totp_device_confirmed(user=user) or mfa.totp_device_set(
        user=user, key_hex=secrets.token_hex(20)
    )
    page.context.clear_cookies()
    page.goto(base_url + "/admin/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name=re.compile("log in", re.IGNORECASE)).click()
    page.wait_for_url(re.compile(r".*/admin/otp/\?.*"))
    page.fill("input[name=otp_token]", totp_code(device))
    page.get_by_role("button", name=re.compile("verify", re.IGNORECASE)).click()
    page.wait_for_url(re.compile(r".*/admin/$"))


def run_action(page: Page, base_url: str, action: str) -> None:
    page.goto(base_url + CHANGELIST)
    page.locator("input.action-select").first.check()
    page.select_option("select[name=action]", action)
    page.locator("button[name=index]").first.click()
    page.wait_for_load_state()


def test_editor_drafts_and_submits_another_approves_and_the_page_turns_red(
    page, live_server, artifacts, geography
):
    editor = staff_at("ML", Membership.Role.EDITOR, username="bamako-ed")
    approver = staff_at("ML", Membership.Role.APPROVER, username="bamako-ap")
    first = services.advisory_draft_create(
        country_code="ML", author=editor, fields={**TEXTS, "country_level": 2}
    )
    services.advisory_submit(advisory=first, submitted_by=editor)
    services.advisory_approve(advisory=first, approved_by=approver, confirm_reach=True)
    PresenceFactory(region_id="ML-7")  # someone to tell: the approval needs no confirming
    base = live_server.url

    page.goto(base + "/advisories/ML/")
    expect(page.locator('tr[data-region="ML-7"] .level')).to_have_class(re.compile("level-yellow"))

    sign_in(page, base, "bamako-ed")
    page.goto(base + CHANGELIST + "add/")
    page.select_option("select[name=country]", "ML")
    page.get_by_role("button", name="Create draft").click()
    page.wait_for_url(re.compile(r".*/change/$"))
    expect(page.locator("textarea[name=summary_en]")).to_have_value(TEXTS["summary_en"])
    page.select_option("select[name=country_level]", "4")
    page.fill("input[name=change_note_en]", "Whole country to level 4.")
    page.screenshot(path=artifacts / "advisory-admin-draft.png", full_page=True)
    page.locator("input[name=_save]").click()
    page.wait_for_url(re.compile(re.escape(CHANGELIST) + "$"))
    run_action(page, base, "submit")
    expect(page.locator(".messagelist")).to_contain_text("submitted for approval")

    sign_in(page, base, "bamako-ap")
    run_action(page, base, "approve")
    expect(page.locator(".messagelist")).to_contain_text("approved")

    page.goto(base + "/advisories/ML/")
    expect(page.locator(".country-level .level")).to_have_class(re.compile("level-red"))
    chips = page.locator("table.region-levels tbody .level")
    expect(chips).to_have_count(11)
    for index in range(11):
        expect(chips.nth(index)).to_have_class(re.compile("level-red"))
    page.screenshot(path=artifacts / "advisory-country-page.png", full_page=True)


def test_public_advisory_pages_pass_axe_in_both_languages(page, live_server, artifacts, geography):
    editor = staff_at("ML", Membership.Role.EDITOR, username="bamako-ed")
    approver = staff_at("ML", Membership.Role.APPROVER, username="bamako-ap")
    versions = []
    for level, overrides in ((3, [services.OverrideInput("ML-7", 4)]), (4, [])):
        draft = services.advisory_draft_create(
            country_code="ML",
            author=editor,
            fields={**TEXTS, "country_level": level, "indicators": ["terrorism"]},
            overrides=overrides,
        )
        services.advisory_submit(advisory=draft, submitted_by=editor)
        versions.append(
            services.advisory_approve(advisory=draft, approved_by=approver, confirm_reach=True)
        )
    old, new = versions
    axe = Axe()
    pages = {
        "list": "/advisories/",
        "country": "/advisories/ML/",
        "history": "/advisories/ML/history/",
        "compare": f"/advisories/ML/compare/{old.pk}/{new.pk}/",
    }

    for language in ("en", "fr"):
        page.context.set_extra_http_headers({"Accept-Language": language})
        for name, path in pages.items():
            page.goto(live_server.url + path)
            assert page.locator("html").get_attribute("lang") == language
            blocking = [
                f"{violation['id']} ({violation['impact']})"
                for violation in axe.run(page).response["violations"]
                if violation["impact"] in {"serious", "critical"}
            ]
            page.screenshot(path=artifacts / f"advisories-{name}-{language}.png", full_page=True)
            assert blocking == [], f"{name} ({language}): {blocking}"


def test_the_approver_sees_the_diff_and_the_reach_then_approves_with_the_button(
    page, live_server, artifacts, geography, monkeypatch
):
    from consular.celery import app as celery_app

    # The fan-out and the sends run in the server's thread when the approval commits.
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
    editor = staff_at("ML", Membership.Role.EDITOR, username="bamako-ed")
    approver = staff_at("ML", Membership.Role.APPROVER, username="bamako-ap")
    publish(
        country_code="ML",
        editor=editor,
        approver=approver,
        level=3,
        overrides=[("ML-7", 4, "Avoid travel north of Gao.", "Évitez le nord de Gao.")],
    )
    gao = make_citizen("ML-7", name="Awa")
    make_citizen(None, country_code="ML", language="fr", name="Binta")
    draft = services.advisory_draft_create(
        country_code="ML",
        author=editor,
        fields={
            **TEXTS,
            "country_level": 3,
            "notify": Notify.CHANGED_REGIONS,
            "change_note_en": "Fighting reported around Gao.",
            "change_note_fr": "Combats signalés autour de Gao.",
        },
        overrides=[
            services.OverrideInput(
                "ML-7",
                4,
                "Leave now by commercial flight.",
                "Partez maintenant par vol commercial.",
            )
        ],
    )
    services.advisory_submit(advisory=draft, submitted_by=editor)
    mail.outbox.clear()
    sms.outbox.clear()
    base = live_server.url

    sign_in(page, base, "bamako-ap")
    page.goto(base + "/staff/advisories/")
    page.get_by_role("link", name="Mali").click()
    expect(page.locator("[data-reach]")).to_contain_text("2 people, 4 messages")
    expect(page.locator("ins").first).to_have_text("Leave now by commercial flight.")
    expect(page.locator("del").first).to_have_text("Avoid travel north of Gao.")
    expect(page.locator("[data-notify]")).to_contain_text("regional advice changed")
    blocking = [
        f"{violation['id']} ({violation['impact']})"
        for violation in Axe().run(page).response["violations"]
        if violation["impact"] in {"serious", "critical"}
    ]
    page.screenshot(path=artifacts / "advisory-review.png", full_page=True)
    assert blocking == []
    page.get_by_role("button", name="Approve and publish").click()

    expect(page.get_by_role("status")).to_contain_text("Approved and published.")
    draft.refresh_from_db()
    assert draft.status == "published"
    [email] = [message for message in mail.outbox if message.to == [gao.email]]
    assert "Leave now by commercial flight." in email.body
    assert any("Leave now by commercial flight." in text.text for text in sms.outbox)
    assert len(mail.outbox) + len(sms.outbox) == 4
