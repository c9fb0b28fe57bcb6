"""The strict Content-Security-Policy holds in a real browser: every page the site serves,
the admin and the API docs included, runs without a single blocked script, style or image."""

import re
from base64 import b32decode

import pytest
from django.core import mail
from django_otp.oath import totp
from playwright.sync_api import ConsoleMessage, Page

from accounts.models import User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Records violations in the page itself; init scripts run outside the page's policy.
LISTEN_FOR_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI}`);
});
"""


def _watch(page: Page) -> list[str]:
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        # Chromium reports each blocked resource on the console as well.
        if "Content Security Policy" in message.text:
            problems.append(f"console: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.add_init_script(LISTEN_FOR_VIOLATIONS)
    return problems


def _violations(page: Page) -> list[str]:
    return list(page.evaluate("window.__cspViolations"))


def test_home_page_runs_under_the_policy(page, live_server):
    problems = _watch(page)

    response = page.goto(live_server.url + "/")

    assert response is not None
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert page.get_by_role("heading", level=1).is_visible()
    assert _violations(page) == []
    assert problems == []


def test_admin_runs_under_the_policy(page, live_server, artifacts):
    User.objects.create_superuser("root", "root@example.org", "a-long-browser-password")
    problems = _watch(page)

    page.goto(live_server.url + "/admin/")
    page.locator("input[name=username]").fill("root")
    page.locator("input[name=password]").fill("a-long-browser-password")
    page.locator("input[type=submit]").click()
    # No device yet: the enrolment step, which starts by proving the mailbox...
    page.wait_for_url("**/admin/otp/enrol/**")
    assert _violations(page) == []
    [email] = mail.outbox
    page.locator("input[name=mailbox_code]").fill(re.search(r"\b\d{8}\b", email.body)[0])
    page.locator("#mailbox-form input[type=submit]").click()
    # ...then shows the QR code, drawn inline as SVG.
    page.locator("figure svg").wait_for()
    assert page.locator("figure svg").is_visible()
    assert _violations(page) == []
    secret = page.locator("#otp-secret").inner_text()
    page.locator("input[name=otp_token]").fill(f"{totp(b32decode(secret)):06d}")
    page.locator("input[type=submit]").click()
    page.wait_for_url(live_server.url + "/admin/")
    assert _violations(page) == []

    # A change list with filters (nonce-carrying inline style) and a change form (scripts).
    page.goto(live_server.url + "/admin/accounts/user/")
    assert page.locator("#changelist-filter").is_visible()
    assert _violations(page) == []
    page.locator("#result_list a", has_text="root").click()
    page.wait_for_url("**/change/")
    assert page.locator("input[name=username]").input_value() == "root"
    assert _violations(page) == []
    page.screenshot(path=artifacts / "admin-user-change.png", full_page=True)
    assert problems == []


def test_api_docs_render_under_the_policy(page, live_server, artifacts):
    problems = _watch(page)

    page.goto(live_server.url + "/api/docs/")

    page.locator(".swagger-ui .info .title").wait_for()
    assert "consular API" in page.locator(".swagger-ui .info .title").inner_text()
    page.locator(".opblock").first.wait_for()
    assert _violations(page) == []
    assert problems == []
    page.screenshot(path=artifacts / "api-docs.png", full_page=True)
