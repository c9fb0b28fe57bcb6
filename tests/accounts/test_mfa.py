import re
import uuid

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.urls import URLResolver, get_resolver
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import mfa
from accounts.demo import DEMO_TOTP_KEY
from accounts.models import Membership
from core.models import AuditEvent
from tests.accounts.factories import MembershipFactory, UserFactory, login_verified, totp_code

pytestmark = pytest.mark.django_db

PASSWORD = "the-officers-real-password"
OTP_STEP = "/admin/otp/?next=%2Fadmin%2F"
ENROL_STEP = "/admin/otp/enrol/?next=%2Fadmin%2F"


@pytest.fixture
def officer():
    return UserFactory(username="officer", password=PASSWORD)


@pytest.fixture
def device(officer):
    return mfa.totp_device_set(user=officer, key_hex="11" * 20)


def _password(client: Client):
    return client.post(
        "/admin/login/", {"username": "officer", "password": PASSWORD, "next": "/admin/"}
    )


def test_the_password_alone_leads_to_the_second_factor_step(client, officer, device):
    response = _password(client)

    assert response.status_code == 302
    assert response["Location"] == OTP_STEP


def test_the_admin_refuses_a_password_only_session(client, officer, device):
    _password(client)

    index = client.get("/admin/")
    login = client.get(index["Location"])
    changelist = client.get("/admin/accounts/post/")

    assert index.status_code == 302
    assert index["Location"].startswith("/admin/login/")
    assert login.status_code == 302
    assert login["Location"] == OTP_STEP
    assert changelist.status_code == 302


def test_the_api_ignores_a_password_only_session(client, officer, device):
    _password(client)
    refused = client.get("/api/v1/alerts/")
    login_verified(client, officer)
    accepted = client.get("/api/v1/alerts/")

    assert refused.status_code in {401, 403}
    assert accepted.status_code == 200


def test_the_current_code_verifies_the_session(client, officer, device):
    _password(client)

    response = client.post(OTP_STEP, {"otp_token": totp_code(device), "next": "/admin/"})

    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_a_code_cannot_be_used_twice(client, officer, device):
    code = totp_code(device)
    _password(client)
    client.post(OTP_STEP, {"otp_token": code})
    client.logout()

    _password(client)
    replay = client.post(OTP_STEP, {"otp_token": code})

    assert replay.status_code == 200
    assert client.get("/admin/").status_code == 302


def test_an_offsite_next_is_ignored(client, officer, device):
    _password(client)

    response = client.post(
        "/admin/otp/", {"otp_token": totp_code(device), "next": "https://evil.example/"}
    )

    assert response["Location"] == "/admin/"


def test_a_wrong_code_is_refused_and_audited(client, officer, device):
    _password(client)
    wrong = f"{(int(totp_code(device)) + 1) % 1_000_000:06d}"

    response = client.post(OTP_STEP, {"otp_token": wrong})

    assert response.status_code == 200
    assert response.context["form"].errors["otp_token"]
    assert client.get("/admin/").status_code == 302
    assert AuditEvent.objects.filter(action="login_failed", username="officer").count() == 1


def test_wrong_codes_count_towards_the_lockout(client, officer, device, settings):
    _password(client)
    wrong = f"{(int(totp_code(device)) + 1) % 1_000_000:06d}"

    responses = [
        client.post(OTP_STEP, {"otp_token": wrong}) for _ in range(settings.AXES_FAILURE_LIMIT)
    ]
    after = client.post(OTP_STEP, {"otp_token": totp_code(device)})

    assert [r.status_code for r in responses[:-1]] == [200] * (settings.AXES_FAILURE_LIMIT - 1)
    assert responses[-1].status_code == 429
    # Locked out: the password-only session is gone, and so is the right to try the password.
    assert "_auth_user_id" not in client.session
    assert after.status_code == 302
    assert _password(client).status_code == 429
    assert AuditEvent.objects.filter(action="locked_out", username="officer").exists()


def _mailbox_code() -> str:
    [email] = mail.outbox
    found = re.search(r"\b(\d{8})\b", str(email.body))
    assert found is not None
    return found.group(1)


def _prove_mailbox(client: Client) -> None:
    client.get(ENROL_STEP)
    client.post(ENROL_STEP, {"mailbox_code": _mailbox_code()})


def test_staff_without_a_device_prove_their_mailbox_enrol_then_reach_the_admin(client, officer):
    _password(client)

    step = client.get(OTP_STEP)
    mailbox = client.get(step["Location"])
    [email] = mail.outbox
    proved = client.post(step["Location"], {"mailbox_code": _mailbox_code()})
    page = client.get(step["Location"])
    pending = TOTPDevice.objects.get(user=officer)
    confirm = client.post(step["Location"], {"otp_token": totp_code(pending)})

    assert step["Location"] == ENROL_STEP
    assert email.to == ["officer@example.org"]
    assert b"o***@example.org" in mailbox.content
    assert b"otpauth://" not in mailbox.content
    assert proved["Location"] == ENROL_STEP
    assert page.status_code == 200
    assert page["Cache-Control"].count("no-store") == 1
    assert mfa.totp_secret_base32(pending) in page.content.decode()
    assert b"<svg" in page.content
    assert b"otpauth://totp/consular%3Aofficer?secret=" in page.content
    assert confirm["Location"] == "/admin/"
    assert TOTPDevice.objects.get(user=officer).confirmed
    assert AuditEvent.objects.filter(action="otp_enrolled", username="officer").exists()
    assert client.get("/admin/").status_code == 200


def test_a_password_alone_never_sees_the_enrolment_secret(client, officer):
    _password(client)

    pages = [client.get(ENROL_STEP), client.post(ENROL_STEP, {"mailbox_code": "00000000"})]

    assert not TOTPDevice.objects.filter(user=officer).exists()
    for page in pages:
        assert page.status_code == 200
        assert b"otpauth://" not in page.content
        assert "secret" not in page.context
    assert b"This code is not valid" in pages[1].content
    assert AuditEvent.objects.filter(action="login_failed", username="officer").exists()


def test_a_mailbox_code_is_resent_at_most_once_a_minute_and_the_old_one_dies(
    client, officer, time_machine
):
    time_machine.move_to("2026-11-24 10:00:00Z", tick=False)
    _password(client)
    client.get(ENROL_STEP)
    first = _mailbox_code()

    client.post(ENROL_STEP, {"resend": "1"})
    assert len(mail.outbox) == 1
    time_machine.move_to("2026-11-24 10:01:01Z", tick=False)
    client.post(ENROL_STEP, {"resend": "1"})
    second = re.search(r"\b(\d{8})\b", mail.outbox[1].body).group(1)
    stale = client.post(ENROL_STEP, {"mailbox_code": first})
    time_machine.move_to("2026-11-24 10:17:00Z", tick=False)
    expired = client.post(ENROL_STEP, {"mailbox_code": second})

    assert len(mail.outbox) == 2
    assert first != second
    assert b"otpauth://" not in stale.content
    assert b"otpauth://" not in expired.content
    assert b"This code is not valid" in expired.content


def test_staff_without_an_email_address_cannot_enrol(client, officer):
    type(officer).objects.filter(pk=officer.pk).update(email="")
    _password(client)

    page = client.get(ENROL_STEP)

    assert b"no email address" in page.content
    assert mail.outbox == []
    assert not TOTPDevice.objects.filter(user=officer).exists()


def test_the_enrolment_secret_stays_until_it_is_confirmed(client, officer):
    _password(client)
    _prove_mailbox(client)

    first = client.get(ENROL_STEP)
    second = client.get(ENROL_STEP)

    assert TOTPDevice.objects.filter(user=officer).count() == 1
    assert first.context["secret"] == second.context["secret"]


def test_a_password_cannot_enrol_a_second_device(client, officer, device):
    _password(client)

    response = client.get("/admin/otp/enrol/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/otp/?")
    assert TOTPDevice.objects.filter(user=officer).count() == 1


def test_the_steps_need_a_password_first(client, officer, device):
    assert client.get("/admin/otp/")["Location"].startswith("/admin/login/")
    assert client.get("/admin/otp/enrol/")["Location"].startswith("/admin/login/")


def test_demo_staff_share_the_printed_totp_secret(geography, capsys):
    call_command("seed_demo")

    output = capsys.readouterr().out
    assert DEMO_TOTP_KEY in output
    devices = TOTPDevice.objects.filter(user__username__in=["admin", "bamako-editor"])
    assert {device.key for device in devices} == {DEMO_TOTP_KEY}
    assert all(device.confirmed for device in devices)


def _staff_page_urls() -> list[str]:
    """Every page of the URL configuration under staff/, with made-up ids, and the outbox."""
    urls = ["/alerts/outbox/"]

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif route.startswith("staff/"):
                urls.append("/" + re.sub(r"<uuid:\w+>", str(uuid.uuid4()), route))

    walk(get_resolver().url_patterns, "")
    return urls


def test_staff_pages_outside_the_admin_refuse_a_password_only_session(
    client, officer, device, settings
):
    settings.DEBUG = False
    urls = _staff_page_urls()
    _password(client)

    answers = {url: client.get(url).status_code for url in urls}

    assert len(urls) > 1
    assert all(code in (302, 404) for code in answers.values()), answers
    MembershipFactory(user=officer, role=Membership.Role.OFFICER)
    login_verified(client, officer)
    assert client.get("/alerts/outbox/").status_code == 200


def test_superusers_see_devices_without_their_secret_and_reset_them(client, officer, device):
    root = UserFactory(username="root", is_superuser=True)
    login_verified(client, root)
    url = f"/admin/otp_totp/totpdevice/{device.pk}/"

    listing = client.get("/admin/otp_totp/totpdevice/")
    page = client.get(f"{url}change/")
    add = client.get("/admin/otp_totp/totpdevice/add/")
    deleted = client.post(f"{url}delete/", {"post": "yes"})

    assert listing.status_code == page.status_code == 200
    assert device.key not in listing.content.decode() + page.content.decode()
    assert mfa.totp_secret_base32(device) not in page.content.decode()
    assert add.status_code == 403
    assert deleted.status_code == 302
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()
    assert AuditEvent.objects.filter(action="delete", object_type="otp_totp.totpdevice").exists()


def test_other_staff_cannot_reach_the_devices(client, officer, device):
    login_verified(client, officer)

    assert client.get("/admin/otp_totp/totpdevice/").status_code == 403
