import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_home_page_and_staff_login_render(page, live_server, artifacts):
    page.goto(live_server.url + "/")
    assert page.get_by_role("heading", level=1).is_visible()
    page.screenshot(path=artifacts / "home.png", full_page=True)

    page.get_by_role("link", name="Staff sign-in").click()
    page.wait_for_url("**/admin/login/**")
    assert page.locator("input[name=username]").is_visible()
    page.screenshot(path=artifacts / "admin-login.png", full_page=True)


def test_language_switch_turns_the_page_french(page, live_server):
    page.goto(live_server.url + "/")

    page.get_by_role("button", name="Français").click()

    assert page.locator("html").get_attribute("lang") == "fr"
