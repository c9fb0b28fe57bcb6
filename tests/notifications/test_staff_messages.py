import datetime
from collections import Counter

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Membership
from core.exceptions import Conflict, NotFound, PermissionDenied, ValidationFailed
from core.models import AuditEvent
from notifications import alerts, fan_out, selectors, sending, staff_messages
from notifications.alerts import MessageTexts
from notifications.models import Alert, Delivery, Suppression
from tests.accounts.factories import staff_at
from tests.notifications.conftest import make_citizen
from tests.notifications.factories import AlertFactory

pytestmark = pytest.mark.usefixtures("eager_tasks", "geography")

TEXTS = {
    "en": MessageTexts(
        subject="Road closed", text="Hello {name}, the road to Gao is closed.", sms="Road closed"
    ),
    "fr": MessageTexts(
        subject="Route fermée",
        text="Bonjour {name}, la route de Gao est fermée.",
        sms="Route fermée",
    ),
}


@pytest.fixture
def officers():
    """The author and a second officer of the post covering Mali."""
    return (
        staff_at("ML", Membership.Role.OFFICER, username="ml-officer", email="officer@post.test"),
        staff_at("ML", Membership.Role.OFFICER, username="ml-officer-2"),
    )


def draft(author, **overrides):
    fields = {"country_code": "ML", "region_codes": ["ML-7"], "texts": TEXTS, **overrides}
    return staff_messages.staff_message_create(author=author, **fields)


def approve(alert, approver, callbacks):
    staff_messages.staff_message_submit(alert=alert, submitted_by=alert.created_by)
    with callbacks(execute=True):
        return staff_messages.staff_message_approve(alert=alert, approver=approver)


def delivery_counts(alert):
    rows = Delivery.objects.filter(alert=alert).values_list(
        "citizen_id", "region_code", "language", "channel"
    )
    by_channel, by_region, by_language = Counter(), Counter(), Counter()
    for _citizen, region, language, channel in rows:
        by_channel[channel] += 1
        by_region[(region, channel)] += 1
        by_language[(language, channel)] += 1
    return by_channel, by_region, by_language, len({row[0] for row in rows})


def preview_counts(preview):
    by_region = Counter(
        {
            (region, channel): n
            for region, counts in preview.by_region.items()
            for channel, n in counts.items()
            if channel != "people"
        }
    )
    by_language = Counter(
        {
            (language, channel): n
            for language, counts in preview.by_language.items()
            for channel, n in counts.items()
            if channel != "people"
        }
    )
    return Counter(preview.by_channel), by_region, by_language, preview.people


@pytest.mark.postgres
def test_approved_message_reaches_only_the_chosen_regions_in_their_language(
    officers, django_capture_on_commit_callbacks, sms_outbox
):
    author, approver = officers
    fatou = make_citizen("ML-7", language="fr", name="Fatou")
    make_citizen("ML-1", name="Moussa")
    alert = draft(author)

    preview = selectors.staff_message_preview(alert=alert)
    alert = approve(alert, approver, django_capture_on_commit_callbacks)

    assert preview.people == 1
    assert preview.by_channel == {"email": 1, "sms": 1}
    assert preview.by_region == {"ML-7": {"email": 1, "sms": 1, "people": 1}}
    assert preview.by_language == {"fr": {"email": 1, "sms": 1, "people": 1}}
    alert.refresh_from_db()
    assert (alert.state, alert.approved_by) == (Alert.State.DONE, approver)
    assert Delivery.objects.filter(alert=alert, status=Delivery.Status.SENT).count() == 2
    [email] = mail.outbox
    assert (email.to, email.subject) == ([fatou.email], "Route fermée")
    assert "Bonjour Fatou" in email.body
    assert [(m.to, m.text) for m in sms_outbox] == [(fatou.phone, "Route fermée")]


@pytest.mark.postgres
def test_preview_counts_are_the_deliveries_the_fan_out_creates(
    officers, django_capture_on_commit_callbacks
):
    author, approver = officers
    today = timezone.localdate()
    make_citizen("ML-7", language="fr")
    make_citizen("ML-7", sms=False)
    make_citizen("ML-1", email_verified=False)
    make_citizen(None, country_code="ML", language="fr")  # somewhere in Mali
    make_citizen("ML-7", start=today + datetime.timedelta(days=3), end=today.replace(year=2030))
    make_citizen("ML-7", start=today + datetime.timedelta(days=60), end=today.replace(year=2030))
    make_citizen("ML-7", start=today.replace(year=2020), end=today - datetime.timedelta(days=1))
    stopped = make_citizen("ML-1")
    Suppression.objects.create(citizen=stopped, channel="sms", reason="opt_out")
    make_citizen("LB-BA")
    alert = draft(author, region_codes=[])  # the whole country

    preview = selectors.staff_message_preview(alert=alert)
    approve(alert, approver, django_capture_on_commit_callbacks)

    assert preview_counts(preview) == delivery_counts(alert)
    assert preview.people == 6
    assert preview.messages == Delivery.objects.filter(alert=alert).count() == 9
    assert preview.by_region[""] == {"email": 1, "sms": 1, "people": 1}


def test_a_region_reaches_its_nested_subdivisions(officers):
    # Île-de-France holds Paris: a message to the region reaches the department.
    staff = staff_at("FR", Membership.Role.OFFICER, username="fr-officer")
    make_citizen("FR-75C", country_code="FR")
    make_citizen("FR-ARA", country_code="FR")
    alert = draft(staff, country_code="FR", region_codes=["FR-IDF"])

    preview = selectors.staff_message_preview(alert=alert)

    assert preview.people == 1
    assert set(preview.by_region) == {"FR-75C"}


def test_author_cannot_approve_and_the_database_refuses_it_too(officers):
    author, _second = officers
    alert = draft(author)
    staff_messages.staff_message_submit(alert=alert, submitted_by=author)

    with pytest.raises(PermissionDenied, match="another staff member must approve"):
        staff_messages.staff_message_approve(alert=alert, approver=author)
    with pytest.raises(IntegrityError), transaction.atomic():
        Alert.objects.filter(id=alert.id).update(state="fanning_out", approved_by=author)
    with pytest.raises(IntegrityError), transaction.atomic():
        Alert.objects.filter(id=alert.id).update(state="fanning_out")

    alert.refresh_from_db()
    assert alert.state == Alert.State.AWAITING_APPROVAL


def test_approver_needs_a_role_for_the_country(officers):
    author, _second = officers
    beirut = staff_at("LB", Membership.Role.APPROVER, username="lb-approver")
    alert = draft(author)
    staff_messages.staff_message_submit(alert=alert, submitted_by=author)

    with pytest.raises(PermissionDenied):
        staff_messages.staff_message_approve(alert=alert, approver=beirut)


def test_rejected_message_goes_back_to_draft_with_the_reason_and_can_be_fixed(officers):
    author, second = officers
    alert = draft(author)
    staff_messages.staff_message_submit(alert=alert, submitted_by=author)

    with pytest.raises(ValidationFailed) as empty:
        staff_messages.staff_message_reject(alert=alert, rejected_by=second, reason=" ")
    staff_messages.staff_message_reject(alert=alert, rejected_by=second, reason="Name the road.")
    alert = staff_messages.staff_message_update(
        alert=alert,
        editor=author,
        texts={"en": MessageTexts(subject="RN16 closed", text="The RN16 is closed.", sms="RN16")},
    )

    assert empty.value.field == "reason"
    alert.refresh_from_db()
    assert (alert.state, alert.rejection_reason) == (Alert.State.DRAFT, "Name the road.")
    assert alert.texts["en"]["subject"] == "RN16 closed"
    assert alert.texts["fr"]["subject"] == "Route fermée"
    steps = AuditEvent.objects.filter(object_id=str(alert.id)).values_list("detail", flat=True)
    assert [step["step"] for step in steps.order_by("id")] == [
        "create",
        "submit",
        "reject",
        "update",
    ]


def test_only_a_draft_can_be_changed(officers):
    author, _second = officers
    alert = draft(author)
    staff_messages.staff_message_submit(alert=alert, submitted_by=author)

    with pytest.raises(Conflict):
        staff_messages.staff_message_update(alert=alert, editor=author, send_sms=False)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"region_codes": ["LB-BA"]}, "region_codes"),
        ({"send_email": False, "send_sms": False}, "send_email"),
        ({"texts": {"en": TEXTS["en"]}}, "subject_fr"),
        ({"texts": {**TEXTS, "fr": MessageTexts(subject="S", text="T", sms="")}}, "sms_fr"),
        ({"texts": {**TEXTS, "en": MessageTexts(subject="S", text="", sms="x")}}, "text_en"),
        ({"texts": {**TEXTS, "en": MessageTexts(subject="S", text="T", sms="ê" * 300)}}, "sms_en"),
    ],
)
def test_invalid_messages_are_refused_naming_the_field(officers, overrides, field):
    with pytest.raises(ValidationFailed) as refusal:
        draft(officers[0], **overrides)

    assert refusal.value.field == field
    assert not Alert.objects.exists()


def test_sms_only_message_needs_no_email_text(officers):
    texts = {language: MessageTexts(subject="", text="", sms="Curfew 20h") for language in TEXTS}

    alert = draft(officers[0], texts=texts, send_email=False)

    assert alert.state == Alert.State.DRAFT


def test_test_send_goes_to_the_staff_member_only_and_writes_no_delivery(officers, sms_outbox):
    author, _second = officers
    make_citizen("ML-7")
    alert = draft(author)

    result = staff_messages.staff_message_test_send(alert=alert, user=author)

    assert result.sent == 4
    assert result.sms_by_email
    assert {tuple(email.to) for email in mail.outbox} == {("officer@post.test",)}
    assert sorted(email.subject for email in mail.outbox) == [
        "[TEST en] Road closed",
        "[TEST en] Text message (1 SMS parts)",
        "[TEST fr] Route fermée",
        "[TEST fr] Text message (1 SMS parts)",
    ]
    assert "List-Unsubscribe" not in mail.outbox[0].extra_headers
    assert sms_outbox == []
    assert not Delivery.objects.exists()
    alert.refresh_from_db()
    assert alert.state == Alert.State.DRAFT


def test_drafts_and_submitted_messages_are_never_fanned_out(
    officers, django_capture_on_commit_callbacks
):
    author, _second = officers
    make_citizen("ML-7")
    waiting = draft(author)
    staff_messages.staff_message_submit(alert=waiting, submitted_by=author)
    still_draft = draft(author)
    Alert.objects.update(created_at=timezone.now() - datetime.timedelta(days=1))

    with django_capture_on_commit_callbacks(execute=True):
        result = sending.deliveries_sweep()
    fanned = fan_out.alert_fan_out(alert_id=str(still_draft.id))

    assert (result.alerts_resumed, fanned.created) == (0, 0)
    assert not Delivery.objects.exists()
    assert set(Alert.objects.values_list("state", flat=True)) == {
        Alert.State.DRAFT,
        Alert.State.AWAITING_APPROVAL,
    }


def test_sweeper_waits_for_the_grace_period_after_approval(
    officers, django_capture_on_commit_callbacks
):
    author, approver = officers
    alert = draft(author)
    staff_messages.staff_message_submit(alert=alert, submitted_by=author)
    staff_messages.staff_message_approve(alert=alert, approver=approver)  # fan-out not run
    Alert.objects.update(created_at=timezone.now() - datetime.timedelta(days=1))

    assert sending.deliveries_sweep().alerts_resumed == 0
    Alert.objects.update(approved_at=timezone.now() - datetime.timedelta(hours=1))
    assert sending.deliveries_sweep().alerts_resumed == 1


def test_a_draft_can_be_cancelled_and_is_then_never_sent(officers):
    author, _second = officers
    alert = draft(author)

    alerts.alert_cancel(alert=alert, cancelled_by=author)

    alert.refresh_from_db()
    assert alert.state == Alert.State.CANCELLED
    with pytest.raises(Conflict):
        staff_messages.staff_message_submit(alert=alert, submitted_by=author)


def test_the_steps_refuse_an_alert_that_is_not_a_staff_message(officers):
    author, second = officers
    other = AlertFactory(kind=Alert.Kind.MESSAGE, created_by=author)

    for step in (
        lambda: staff_messages.staff_message_submit(alert=other, submitted_by=author),
        lambda: staff_messages.staff_message_approve(alert=other, approver=second),
        lambda: staff_messages.staff_message_reject(alert=other, rejected_by=second, reason="x"),
    ):
        with pytest.raises(NotFound):
            step()
