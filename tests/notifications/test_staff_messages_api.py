import pytest
from django.core import mail

from accounts.models import Membership
from notifications.models import Alert, Delivery
from tests.accounts.factories import staff_at
from tests.notifications.conftest import make_citizen

pytestmark = pytest.mark.usefixtures("eager_tasks", "geography")

MESSAGE = {
    "country": "ML",
    "region_codes": ["ML-7"],
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


@pytest.fixture
def approver():
    return staff_at("ML", Membership.Role.APPROVER, username="ml-approver")


@pytest.mark.postgres
def test_message_written_previewed_and_approved_through_the_api_reaches_the_region(
    api_client, author, approver, django_capture_on_commit_callbacks, sms_outbox
):
    fatou = make_citizen("ML-7", language="fr", name="Fatou")
    make_citizen("ML-1")
    api_client.force_authenticate(author)

    created = api_client.post("/api/v1/alerts/", MESSAGE, format="json")
    alert_id = created.json()["id"]
    preview = api_client.get(f"/api/v1/alerts/{alert_id}/preview/")
    submitted = api_client.post(f"/api/v1/alerts/{alert_id}/submit/")
    own_approval = api_client.post(f"/api/v1/alerts/{alert_id}/approve/")
    api_client.force_authenticate(approver)
    with django_capture_on_commit_callbacks(execute=True):
        approved = api_client.post(f"/api/v1/alerts/{alert_id}/approve/")

    assert created.status_code == 201
    assert created.json()["state"] == "draft"
    assert created.json()["message"]["sms_segments"] == {"en": 1, "fr": 1}
    assert preview.json() == {
        "people": 1,
        "messages": 2,
        "by_channel": {"email": 1, "sms": 1},
        "by_region": {"ML-7": {"email": 1, "sms": 1, "people": 1}},
        "by_language": {"fr": {"email": 1, "sms": 1, "people": 1}},
    }
    assert submitted.json()["state"] == "awaiting_approval"
    assert own_approval.status_code == 403
    assert own_approval.json()["code"] == "four_eyes"
    assert approved.status_code == 200
    assert approved.json()["message"]["approved_by"] == "ml-approver"
    assert Delivery.objects.filter(alert_id=alert_id).count() == preview.json()["messages"]
    assert [email.to for email in mail.outbox] == [[fatou.email]]
    assert [m.to for m in sms_outbox] == [fatou.phone]


def test_staff_of_another_post_get_404(api_client, author):
    api_client.force_authenticate(author)
    alert_id = api_client.post("/api/v1/alerts/", MESSAGE, format="json").json()["id"]
    api_client.force_authenticate(staff_at("LB", Membership.Role.APPROVER, username="lb"))

    answers = [
        api_client.get(f"/api/v1/alerts/{alert_id}/preview/").status_code,
        api_client.post(f"/api/v1/alerts/{alert_id}/approve/").status_code,
        api_client.post(f"/api/v1/alerts/{alert_id}/test-send/").status_code,
        api_client.patch(f"/api/v1/alerts/{alert_id}/", {"sms_en": "x"}).status_code,
    ]

    assert answers == [404, 404, 404, 404]
    assert Alert.objects.get(id=alert_id).state == Alert.State.DRAFT


def test_reject_needs_a_reason_and_returns_the_draft_to_its_author(api_client, author, approver):
    api_client.force_authenticate(author)
    alert_id = api_client.post("/api/v1/alerts/", MESSAGE, format="json").json()["id"]
    api_client.post(f"/api/v1/alerts/{alert_id}/submit/")
    api_client.force_authenticate(approver)

    no_reason = api_client.post(f"/api/v1/alerts/{alert_id}/reject/", {"reason": ""})
    rejected = api_client.post(f"/api/v1/alerts/{alert_id}/reject/", {"reason": "Which road?"})
    api_client.force_authenticate(author)
    changed = api_client.patch(
        f"/api/v1/alerts/{alert_id}/", {"sms_en": "RN16 to Gao closed."}, format="json"
    )

    assert no_reason.status_code == 400
    assert list(no_reason.json()["errors"]) == ["reason"]
    assert rejected.json()["message"]["rejection_reason"] == "Which road?"
    assert changed.json()["state"] == "draft"
    assert changed.json()["message"]["sms_en"] == "RN16 to Gao closed."
    assert changed.json()["message"]["sms_fr"] == "Route de Gao fermée."


def test_test_send_answers_where_it_went_and_writes_no_delivery(api_client, author):
    make_citizen("ML-7")
    api_client.force_authenticate(author)
    alert_id = api_client.post("/api/v1/alerts/", MESSAGE, format="json").json()["id"]

    response = api_client.post(f"/api/v1/alerts/{alert_id}/test-send/")

    assert response.status_code == 200
    assert response.json()["to"] == "o@post.test"
    assert response.json()["sms_by_email"] is True
    assert len(mail.outbox) == response.json()["sent"] == 4
    assert not Delivery.objects.exists()


@pytest.mark.parametrize(
    ("language", "change", "field", "reason"),
    [
        ("en", {"sms_fr": ""}, "sms_fr", "Write the text message."),
        ("fr", {"sms_fr": ""}, "sms_fr", "Rédigez le SMS."),
        ("en", {"region_codes": ["LB-BA"]}, "region_codes", "not in the country"),
        ("fr", {"region_codes": ["LB-BA"]}, "region_codes", "ne sont pas dans le pays"),
        ("fr", {"sms_en": "ê" * 300}, "sms_en", "parties"),
        ("en", {"subject_fr": "x" * 201}, "subject_fr", "200"),
    ],
)
def test_invalid_message_answers_400_naming_the_field_in_the_callers_language(
    api_client, author, language, change, field, reason
):
    api_client.force_authenticate(author)

    response = api_client.post(
        "/api/v1/alerts/",
        {**MESSAGE, **change},
        format="json",
        headers={"Accept-Language": language},
    )

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]
    assert reason in response.json()["errors"][field][0]
    assert not Alert.objects.exists()


def test_editors_cannot_write_staff_messages(api_client):
    api_client.force_authenticate(staff_at("ML", Membership.Role.EDITOR, username="ml-editor"))

    response = api_client.post("/api/v1/alerts/", MESSAGE, format="json")

    assert response.status_code == 403
    assert not Alert.objects.exists()
