import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import Membership
from notifications.models import Alert, Delivery
from tests.accounts.factories import login_verified, staff_at
from tests.notifications.conftest import make_citizen
from tests.notifications.factories import AlertFactory, DeliveryFactory

pytestmark = pytest.mark.usefixtures("eager_tasks", "geography")

CHANGELIST = "/admin/notifications/alert/"
COMPOSE = {
    "country": "ML",
    "region_codes": ["ML-7"],
    "send_email": "on",
    "send_sms": "on",
    "subject_en": "Road closed",
    "text_en": "Hello {name}, the road to Gao is closed.",
    "sms_en": "Road to Gao closed.",
    "subject_fr": "Route fermée",
    "text_fr": "Bonjour {name}, la route de Gao est fermée.",
    "sms_fr": "Route de Gao fermée.",
}


@pytest.fixture
def author():
    return staff_at("ML", Membership.Role.OFFICER, username="ml-officer", email="o@post.test")


def test_officer_composes_sees_who_it_reaches_tests_and_submits(author, client):
    make_citizen("ML-7", language="fr")
    make_citizen("ML-1")
    login_verified(client, author)

    created = client.post(f"{CHANGELIST}add/", COMPOSE)
    alert = Alert.objects.get()
    page = client.get(created["Location"])
    tested = client.post(created["Location"], {**COMPOSE, "_step": "test"}, follow=True)
    client.post(created["Location"], {**COMPOSE, "_step": "submit"})

    assert created.status_code == 302
    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"]
    assert "1 people, 2 messages (1 emails, 1 texts)." in page.content.decode()
    assert "4 test messages sent to o@post.test." in tested.content.decode()
    assert {tuple(email.to) for email in mail.outbox} == {("o@post.test",)}
    alert.refresh_from_db()
    assert (alert.kind, alert.state) == (Alert.Kind.STAFF_MESSAGE, Alert.State.AWAITING_APPROVAL)
    assert not Delivery.objects.exists()


def test_compose_shows_the_services_refusal_on_its_field(author, client):
    login_verified(client, author)

    response = client.post(f"{CHANGELIST}add/", {**COMPOSE, "sms_fr": ""})

    assert response.status_code == 200
    assert response.context["form"].errors == {"sms_fr": ["Write the text message."]}
    assert not Alert.objects.exists()


def test_second_person_approves_from_the_list_and_the_author_cannot(
    author, client, django_capture_on_commit_callbacks
):
    citizen = make_citizen("ML-7")
    approver = staff_at("ML", Membership.Role.APPROVER, username="ml-approver")
    login_verified(client, author)
    client.post(f"{CHANGELIST}add/", {**COMPOSE})
    alert = Alert.objects.get()
    client.post(f"{CHANGELIST}{alert.pk}/change/", {**COMPOSE, "_step": "submit"})

    own = client.post(
        CHANGELIST, {"action": "approve", "_selected_action": [alert.pk]}, follow=True
    )
    login_verified(client, approver)
    page = client.get(f"{CHANGELIST}{alert.pk}/change/")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(CHANGELIST, {"action": "approve", "_selected_action": [alert.pk]})

    assert "another staff member must approve it" in own.content.decode()
    assert "1 people, 2 messages" in page.content.decode()
    alert.refresh_from_db()
    assert (alert.state, alert.approved_by) == (Alert.State.DONE, approver)
    assert [email.to for email in mail.outbox] == [[citizen.email]]


def test_reject_asks_for_a_reason_then_returns_the_message_to_draft(author, client):
    approver = staff_at("ML", Membership.Role.APPROVER, username="ml-approver")
    login_verified(client, author)
    client.post(f"{CHANGELIST}add/", COMPOSE)
    alert = Alert.objects.get()
    client.post(f"{CHANGELIST}{alert.pk}/change/", {**COMPOSE, "_step": "submit"})
    login_verified(client, approver)

    page = client.post(CHANGELIST, {"action": "reject", "_selected_action": [alert.pk]})
    client.post(
        CHANGELIST,
        {"action": "reject", "_selected_action": [alert.pk], "apply": "1", "reason": "Which?"},
    )

    assert page.status_code == 200
    alert.refresh_from_db()
    assert (alert.state, alert.rejection_reason) == (Alert.State.DRAFT, "Which?")


@pytest.mark.parametrize("role", [Membership.Role.EDITOR, Membership.Role.APPROVER])
def test_advisory_staff_cannot_cancel_or_resend_a_live_message_from_the_list(author, client, role):
    approver = staff_at("ML", Membership.Role.APPROVER, username="ml-approver")
    live = AlertFactory(
        kind=Alert.Kind.STAFF_MESSAGE,
        state=Alert.State.SENDING,
        created_by=author,
        approved_by=approver,
        approved_at=timezone.now(),
    )
    failed = DeliveryFactory(
        alert=live, citizen=make_citizen("ML-7"), status=Delivery.Status.FAILED, provider_id=""
    )
    login_verified(client, staff_at("ML", role, username=f"ml-advisory-{role}"))

    page = client.get(CHANGELIST)
    cancel = client.post(
        CHANGELIST, {"action": "cancel", "_selected_action": [live.pk]}, follow=True
    )
    resend = client.post(
        CHANGELIST, {"action": "resend_failed", "_selected_action": [live.pk]}, follow=True
    )

    assert [alert.pk for alert in page.context["cl"].result_list] == [live.pk]
    assert "Only the officers of a post covering this country" in cancel.content.decode()
    assert "Only the officers of a post covering this country" in resend.content.decode()
    live.refresh_from_db()
    failed.refresh_from_db()
    assert live.state == Alert.State.SENDING
    assert failed.status == Delivery.Status.FAILED
