import pytest
from django.core import mail

from accounts.models import Membership
from core import sms
from notifications.models import OutboxMessage, Suppression
from notifications.rendering import unsubscribe_url
from tests.accounts.factories import login_verified, staff_at
from tests.notifications.conftest import make_citizen

pytestmark = pytest.mark.usefixtures("geography")


def test_unsubscribe_asks_then_suppresses_the_channel(client):
    citizen = make_citizen("ML-7")
    path = "/" + unsubscribe_url(citizen_id=str(citizen.id), channel="email").split("/", 3)[3]

    shown = client.get(path)
    assert shown.status_code == 200
    assert not Suppression.objects.exists()

    done = client.post(path, {"List-Unsubscribe": "One-Click"})

    assert done.status_code == 200
    assert Suppression.objects.filter(citizen=citizen, channel="email", reason="opt_out").exists()


def test_unsubscribe_with_a_forged_token_is_refused(client):
    response = client.post("/alerts/unsubscribe/forged/")

    assert response.status_code == 400
    assert not Suppression.objects.exists()


def test_outbox_keeps_development_messages_and_shows_them_to_staff(client, settings):
    settings.SMS_BACKEND = "notifications.outbox.SmsBackend"
    sms.send_sms(to="+22370000001", body="Gao: level 4")
    from notifications.outbox import EmailBackend

    EmailBackend().send_messages([mail.EmailMessage("Subject", "Body", to=["a@example.org"])])
    assert OutboxMessage.objects.count() == 2

    assert client.get("/alerts/outbox/").status_code == 404
    login_verified(client, staff_at("ML"))
    page = client.get("/alerts/outbox/")

    assert page.status_code == 200
    assert b"Gao: level 4" in page.content
    assert b"a@example.org" in page.content


@pytest.mark.parametrize("role", [Membership.Role.EDITOR, Membership.Role.APPROVER])
def test_outbox_names_citizens_so_advisory_staff_do_not_see_it(client, settings, role):
    settings.DEBUG = False
    login_verified(client, staff_at("ML", role))

    assert client.get("/alerts/outbox/").status_code == 404
