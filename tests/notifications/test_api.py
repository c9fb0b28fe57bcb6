import pytest

from accounts.models import Membership
from notifications.models import Alert, Delivery
from tests.accounts.factories import staff_at
from tests.notifications.conftest import make_citizen
from tests.notifications.factories import AlertFactory, DeliveryFactory

pytestmark = pytest.mark.usefixtures("geography")


@pytest.fixture
def mali_alert():
    alert = AlertFactory(country_id="ML", people=3, messages=3)
    DeliveryFactory(alert=alert, citizen=make_citizen("ML-7"), channel="sms")
    DeliveryFactory(alert=alert, citizen=make_citizen("ML-7"), channel="email")
    DeliveryFactory(
        alert=alert,
        citizen=make_citizen("ML-7"),
        channel="email",
        status=Delivery.Status.FAILED,
        provider_id="",
        sent_at=None,
        error_code="550",
    )
    return alert


def test_staff_see_their_posts_alerts_with_counts(
    api_client, mali_alert, django_assert_num_queries
):
    api_client.force_authenticate(staff_at("ML"))

    listed = api_client.get("/api/v1/alerts/")
    # The alert (its scope a subquery), its grouped counts, the last minute's hand-offs.
    with django_assert_num_queries(3):
        detail = api_client.get(f"/api/v1/alerts/{mali_alert.id}/")

    assert [alert["id"] for alert in listed.json()["results"]] == [str(mali_alert.id)]
    progress = detail.json()["progress"]
    assert (progress["people"], progress["messages"]) == (3, 3)
    assert progress["counts"] == {"sms": {"sent": 1}, "email": {"sent": 1, "failed": 1}}
    assert progress["handed_off_last_minute"] == 2
    assert progress["remaining"] == 0
    assert progress["eta_seconds"] == 0


def test_an_alert_shows_people_and_messages_and_keeps_recipients_for_older_clients(api_client):
    alert = AlertFactory(country_id="ML", people=2, messages=3)
    api_client.force_authenticate(staff_at("ML"))

    [listed] = api_client.get("/api/v1/alerts/").json()["results"]
    detail = api_client.get(f"/api/v1/alerts/{alert.id}/").json()

    for shown in (listed, detail, detail["progress"]):
        assert (shown["people"], shown["messages"]) == (2, 3)
    assert listed["recipients"] == detail["recipients"] == 3


def test_other_posts_staff_see_nothing_and_get_404(api_client, mali_alert):
    api_client.force_authenticate(staff_at("LB"))

    assert api_client.get("/api/v1/alerts/").json()["results"] == []
    assert api_client.get(f"/api/v1/alerts/{mali_alert.id}/").status_code == 404
    assert api_client.get(f"/api/v1/alerts/{mali_alert.id}/deliveries/").status_code == 404
    assert api_client.post(f"/api/v1/alerts/{mali_alert.id}/cancel/").status_code == 404


def test_anonymous_callers_are_refused(api_client, mali_alert):
    assert api_client.get("/api/v1/alerts/").status_code in (401, 403)


def test_deliveries_list_filters_by_status(api_client, mali_alert):
    api_client.force_authenticate(staff_at("ML"))

    response = api_client.get(f"/api/v1/alerts/{mali_alert.id}/deliveries/?status=failed")

    rows = response.json()["results"]
    assert [(row["channel"], row["status"], row["error_code"]) for row in rows] == [
        ("email", "failed", "550")
    ]
    assert "email" not in rows[0] or "@" not in str(rows[0])


def test_officer_resends_failed_and_cancels(api_client, mali_alert):
    api_client.force_authenticate(staff_at("ML", Membership.Role.OFFICER))

    resent = api_client.post(f"/api/v1/alerts/{mali_alert.id}/resend-failed/")
    cancelled = api_client.post(f"/api/v1/alerts/{mali_alert.id}/cancel/")
    again = api_client.post(f"/api/v1/alerts/{mali_alert.id}/cancel/")

    assert resent.json() == {"requeued": 1}
    assert cancelled.json()["state"] == Alert.State.CANCELLED
    assert Delivery.objects.filter(alert=mali_alert, status=Delivery.Status.CANCELLED).count() == 1
    assert again.status_code == 409


def test_editors_cannot_cancel_alerts(api_client, mali_alert):
    staff_message = AlertFactory(
        country_id="ML", kind=Alert.Kind.STAFF_MESSAGE, state=Alert.State.DRAFT
    )
    api_client.force_authenticate(staff_at("ML", Membership.Role.EDITOR))

    response = api_client.post(f"/api/v1/alerts/{staff_message.id}/cancel/")
    # A message to citizens (mali_alert) does not exist for an advisory editor.
    message = api_client.post(f"/api/v1/alerts/{mali_alert.id}/cancel/")
    deliveries = api_client.get(f"/api/v1/alerts/{staff_message.id}/deliveries/")

    assert (response.status_code, message.status_code, deliveries.status_code) == (403, 404, 404)
    assert Alert.objects.get(id=staff_message.id).state == Alert.State.DRAFT
    assert Alert.objects.get(id=mali_alert.id).state == Alert.State.SENDING
