"""The alert page: people reached and messages by channel and status, the pace and what is
left, failures by reason with the people to phone, resend and cancel behind a confirmation,
and the progress fragment the page polls while the alert sends."""

import pytest
from django.urls import reverse

from core.models import AuditEvent
from notifications.models import Alert, Delivery
from tests.accounts.factories import login_verified
from tests.cases.conftest import citizen_in
from tests.notifications.factories import AlertFactory, DeliveryFactory

pytestmark = pytest.mark.usefixtures("geography")


@pytest.fixture
def sending():
    """An alert to Gao on its way: Awa reached by SMS, Moussa's SMS failed (his email still
    pending), Fanta's email bounced and she has no phone."""
    awa = citizen_in("ML-7", name="Awa")
    moussa = citizen_in("ML-7", name="Moussa")
    fanta = citizen_in("ML-7", name="Fanta", sms=False)
    alert = AlertFactory(country_id="ML", region_codes=["ML-7"], people=3, messages=5)
    DeliveryFactory(alert=alert, citizen=awa, channel="sms", status="delivered")
    DeliveryFactory(
        alert=alert,
        citizen=moussa,
        channel="sms",
        status="failed",
        provider_id="",
        error_code="30003",
        error_reason="Unreachable handset",
    )
    DeliveryFactory(alert=alert, citizen=moussa, channel="email", status="pending", sent_at=None)
    DeliveryFactory(
        alert=alert,
        citizen=fanta,
        channel="email",
        status="bounced",
        error_code="550",
        error_reason="Mailbox unknown",
    )
    return alert, moussa


def page_of(client, alert, **params):
    return client.get(reverse("console:alert", args=[alert.id]), params)


def test_alert_page_shows_progress_by_channel_failures_and_people_to_phone(
    client, bamako_officer, sending
):
    alert, moussa = sending
    login_verified(client, bamako_officer)

    response = page_of(client, alert)

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    assert "1 reached of 3" in page
    assert '<figure class="stacked" data-channel="sms">' in page
    assert '<li data-status="failed">' in page
    assert "Unreachable handset" in page
    assert "Mailbox unknown" in page
    assert f'<a href="tel:{moussa.phone}">{moussa.phone}</a>' in page
    assert "Fanta · no verified phone number" in page
    assert "Awa ·" not in page
    assert 'hx-get="/staff/alerts/' in page  # sending: the page polls its progress
    assert "htmx" in page


def test_progress_fragment_stops_polling_once_the_alert_is_done(client, bamako_officer, sending):
    alert, _moussa = sending
    login_verified(client, bamako_officer)
    url = reverse("console:alert_progress", args=[alert.id])

    live = client.get(url).content.decode()
    Alert.objects.filter(id=alert.id).update(state="done")
    done = client.get(url).content.decode()

    assert live.startswith('<section id="alert-progress"')
    assert "hx-trigger" in live
    assert "hx-trigger" not in done


def test_progress_fragment_query_count_is_pinned(
    client, bamako_officer, sending, django_assert_max_num_queries
):
    alert, _moussa = sending
    for _ in range(20):
        DeliveryFactory(alert=alert, status="sent")
    login_verified(client, bamako_officer)

    with django_assert_max_num_queries(11):
        client.get(reverse("console:alert_progress", args=[alert.id]))


def test_resend_asks_for_confirmation_then_sends_the_failed_again(
    client, bamako_officer, sending, django_capture_on_commit_callbacks
):
    alert, _moussa = sending
    login_verified(client, bamako_officer)

    asked = page_of(client, alert, confirm="resend_failed").content.decode()
    assert "Send the 1 failed message again?" in asked
    assert Delivery.objects.filter(alert=alert, status="failed").count() == 1

    with django_capture_on_commit_callbacks():
        done = client.post(
            reverse("console:alert", args=[alert.id]), {"action": "resend_failed"}, follow=True
        )

    assert "1 failed message is sent again." in done.content.decode()
    assert Delivery.objects.filter(alert=alert, status="failed").count() == 0


def test_cancel_asks_for_confirmation_then_stops_what_waits(client, bamako_officer, sending):
    alert, _moussa = sending
    login_verified(client, bamako_officer)

    asked = page_of(client, alert, confirm="cancel").content.decode()
    assert "Yes, cancel the alert" in asked

    done = client.post(reverse("console:alert", args=[alert.id]), {"action": "cancel"}, follow=True)

    alert.refresh_from_db()
    assert alert.state == "cancelled"
    assert "The alert is cancelled" in done.content.decode()
    assert Delivery.objects.filter(alert=alert, status="cancelled").count() == 1


def test_beirut_gets_404_on_a_bamako_alert_its_fragment_and_its_actions(
    client, beirut_officer, sending
):
    alert, _moussa = sending
    login_verified(client, beirut_officer)

    assert page_of(client, alert).status_code == 404
    assert client.get(reverse("console:alert_progress", args=[alert.id])).status_code == 404
    cancel = client.post(reverse("console:alert", args=[alert.id]), {"action": "cancel"})
    assert cancel.status_code == 404
    alert.refresh_from_db()
    assert alert.state == "sending"


def test_people_to_phone_export_lists_the_unreached_and_is_audited(
    client, bamako_officer, beirut_officer, sending
):
    alert, moussa = sending
    moussa.given_name = "=Moussa"
    moussa.save()
    login_verified(client, bamako_officer)

    response = client.get(reverse("console:alert_to_phone", args=[alert.id]))

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    lines = response.content.decode().splitlines()
    assert lines[0] == "given_name,phone,language"
    assert sorted(lines[1:]) == sorted([f"'=Moussa,'{moussa.phone},en", "Fanta,,en"])
    assert AuditEvent.objects.filter(action="export", object_id=str(alert.id)).exists()

    login_verified(client, beirut_officer)
    assert client.get(reverse("console:alert_to_phone", args=[alert.id])).status_code == 404
