import datetime
import re

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import Membership
from core import events
from core.exceptions import PermissionDenied
from core.models import OutboxEvent
from notifications import alerts
from notifications.alerts import MessageTexts, message_alert_create
from notifications.models import Alert, Delivery
from notifications.selectors import response_token_read
from tests.accounts.factories import staff_at
from tests.advisories.conftest import publish
from tests.notifications.conftest import make_citizen, publish_gao_at_4

pytestmark = pytest.mark.usefixtures("eager_tasks", "geography")

Status = Delivery.Status


def test_same_event_twice_makes_one_alert(mali_at_level_3):
    from advisories.events import RegionLevelChange, RiskLevelChanged
    from advisories.models import Advisory

    advisory = Advisory.objects.get(status=Advisory.Status.PUBLISHED)
    event = RiskLevelChanged(
        advisory_id=str(advisory.id),
        country_code="ML",
        changes=(RegionLevelChange(region_code="ML-7", old_level=3, new_level=4),),
    )

    first = alerts.alert_create_for_level_change(event=event)
    second = alerts.alert_create_for_level_change(event=event)

    assert first.id == second.id


def test_a_level_change_whose_publisher_died_after_commit_is_alerted_once_by_the_relay(
    mali_at_level_3, django_capture_on_commit_callbacks, sms_outbox, settings
):
    editor, approver = mali_at_level_3
    make_citizen("ML-7")
    mail.outbox.clear()
    # The advisory commits; the process dies before its fast path dispatches the event.
    with django_capture_on_commit_callbacks(execute=False):
        publish(
            country_code="ML", editor=editor, approver=approver, level=3, overrides=[("ML-7", 4)]
        )
    assert Alert.objects.count() == 1  # level 3's, from the fixture
    row = OutboxEvent.objects.get(dispatched_at__isnull=True)

    later = timezone.now() + datetime.timedelta(seconds=settings.EVENT_RELAY_GRACE_SECONDS)
    with django_capture_on_commit_callbacks(execute=True):
        relayed = events.events_relay(now=later)
    # Dispatched again: a relay that died after the handlers ran, before marking the row.
    OutboxEvent.objects.filter(id=row.id).update(dispatched_at=None, next_attempt_at=later)
    with django_capture_on_commit_callbacks(execute=True):
        again = events.events_relay(now=later)

    assert (relayed.dispatched, again.dispatched) == (1, 1)
    alert = Alert.objects.order_by("-created_at").first()
    assert alert.region_codes == ["ML-7"]
    assert Alert.objects.count() == 2
    assert Delivery.objects.filter(alert=alert).count() == 2
    assert len(mail.outbox) == 1
    assert len(sms_outbox) == 1


def test_cancel_stops_pending_rows(mali_at_level_3, django_capture_on_commit_callbacks, settings):
    settings.SMS_BACKEND = "tests.notifications.test_sending.TransientFailureBackend"
    make_citizen("ML-7")
    alert = publish_gao_at_4(mali_at_level_3, django_capture_on_commit_callbacks)

    alerts.alert_cancel(alert=alert, cancelled_by=staff_at("ML", Membership.Role.OFFICER))

    assert Delivery.objects.get(alert=alert, channel="sms").status == Status.CANCELLED
    assert Delivery.objects.get(alert=alert, channel="email").status == Status.SENT


@pytest.mark.parametrize("role", [Membership.Role.EDITOR, Membership.Role.APPROVER])
def test_only_the_posts_officers_cancel_or_resend_an_alert(
    mali_at_level_3, django_capture_on_commit_callbacks, settings, role
):
    settings.SMS_BACKEND = "tests.notifications.test_sending.TransientFailureBackend"
    make_citizen("ML-7")
    alert = publish_gao_at_4(mali_at_level_3, django_capture_on_commit_callbacks)
    editor = staff_at("ML", role, username=f"ml-second-{role}")
    foreign_officer = staff_at("LB", Membership.Role.OFFICER, username="lb-officer")

    refusals = []
    for user in (editor, foreign_officer):
        with pytest.raises(PermissionDenied) as cancel:
            alerts.alert_cancel(alert=alert, cancelled_by=user)
        with pytest.raises(PermissionDenied) as resend:
            alerts.alert_resend_failed(alert=alert, actor=user)
        refusals += [cancel.value.code, resend.value.code]

    assert refusals == ["not_allowed"] * 4
    alert.refresh_from_db()
    assert alert.state != Alert.State.CANCELLED
    assert Delivery.objects.get(alert=alert, channel="sms").status != Status.CANCELLED


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


def test_message_reference_is_a_short_unguessable_code_per_alert_and_citizen():
    import uuid

    from notifications.rendering import message_reference

    alert_id, citizen_id = uuid.uuid4(), uuid.uuid4()

    code = message_reference(alert_id=alert_id, citizen_id=citizen_id)

    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{8}", code)  # no I, L, O or U
    assert code == message_reference(alert_id=str(alert_id), citizen_id=str(citizen_id))
    assert code != message_reference(alert_id=alert_id, citizen_id=uuid.uuid4())
    assert code != message_reference(alert_id=uuid.uuid4(), citizen_id=citizen_id)
    assert code not in (alert_id.hex.upper() + citizen_id.hex.upper())


def test_a_message_with_a_reference_gives_each_recipient_their_own(
    django_capture_on_commit_callbacks, sms_outbox
):
    from notifications.rendering import message_reference

    fatou = make_citizen("ML-7", language="fr", name="Fatou")
    awa = make_citizen("ML-7", name="Awa")
    texts = {
        "en": MessageTexts(subject="Seat", text="{name}: ref. {reference}", sms="Ref. {reference}"),
        "fr": MessageTexts(
            subject="Place", text="{name} : réf. {reference}", sms="Réf. {reference}"
        ),
    }

    with django_capture_on_commit_callbacks(execute=True):
        alert = message_alert_create(country_code="ML", citizen_ids=[fatou.id, awa.id], texts=texts)

    fatous = message_reference(alert_id=alert.id, citizen_id=fatou.id)
    awas = message_reference(alert_id=alert.id, citizen_id=awa.id)
    assert fatous != awas
    assert sorted((m.to, m.text) for m in sms_outbox) == sorted(
        [(fatou.phone, f"Réf. {fatous}"), (awa.phone, f"Ref. {awas}")]
    )
    assert {email.to[0]: email.body for email in mail.outbox} == {
        fatou.email: f"Fatou : réf. {fatous}",
        awa.email: f"Awa: ref. {awas}",
    }
