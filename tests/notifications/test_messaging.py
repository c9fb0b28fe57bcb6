import pytest
from django.core import mail

from notifications.messaging import MessageTexts, message_alert_create
from notifications.models import Alert, Delivery
from notifications.selectors import response_token_read
from tests.notifications.conftest import make_citizen

pytestmark = pytest.mark.usefixtures("eager_tasks", "geography")

TEXTS = {
    "en": MessageTexts(
        subject="Are you safe?", text="Hello {name}, answer: {response_url}", sms="Hi {name}"
    ),
    "fr": MessageTexts(
        subject="Êtes-vous en sécurité ?", text="Bonjour {name} : {response_url}", sms="Bonjour"
    ),
}


def test_message_to_regions_reaches_the_people_present_in_their_language_with_their_link(
    django_capture_on_commit_callbacks, sms_outbox
):
    fatou = make_citizen("ML-7", language="fr", name="Fatou")
    make_citizen("ML-1", name="Moussa")

    with django_capture_on_commit_callbacks(execute=True):
        alert = message_alert_create(
            country_code="ML",
            region_codes=["ML-7"],
            texts=TEXTS,
            response_url_template="https://consular.example/safety/{token}/",
        )

    assert Delivery.objects.filter(alert=alert, status=Delivery.Status.SENT).count() == 2
    [email] = mail.outbox
    assert email.to == [fatou.email]
    assert email.subject == "Êtes-vous en sécurité ?"
    token = email.body.split("/safety/")[1].split("/")[0]
    assert response_token_read(token) == (str(alert.id), str(fatou.id))
    assert response_token_read(token + "x") is None
    assert [(m.to, m.text) for m in sms_outbox] == [(fatou.phone, "Bonjour")]


def test_message_to_one_citizen_by_sms_only(django_capture_on_commit_callbacks, sms_outbox):
    awa = make_citizen("ML-7", name="Awa")
    make_citizen("ML-7", name="Moussa")

    with django_capture_on_commit_callbacks(execute=True):
        message_alert_create(country_code="ML", citizen_ids=[awa.id], texts=TEXTS, send_email=False)

    assert mail.outbox == []
    assert [(m.to, m.text) for m in sms_outbox] == [(awa.phone, "Hi Awa")]


def test_message_to_emergency_contacts_uses_the_addresses_they_gave(
    django_capture_on_commit_callbacks, sms_outbox
):
    awa = make_citizen("ML-7", name="Awa")
    awa.emergency_contact_phone = "+33612345678"
    awa.save()
    no_contact = make_citizen("ML-7", name="Moussa")

    with django_capture_on_commit_callbacks(execute=True):
        alert = message_alert_create(
            country_code="ML",
            citizen_ids=[awa.id, no_contact.id],
            texts=TEXTS,
            audience=Alert.Audience.EMERGENCY_CONTACTS,
        )

    assert mail.outbox == []
    assert [(m.to, m.text) for m in sms_outbox] == [("+33612345678", "Hi Awa")]
    assert Delivery.objects.filter(alert=alert).count() == 1


def test_message_needs_both_languages():
    from core.exceptions import ValidationFailed

    with pytest.raises(ValidationFailed):
        message_alert_create(country_code="ML", region_codes=["ML-7"], texts={"en": TEXTS["en"]})
