"""The send path's query counts, pinned like the other hot paths: a fan-out costs the same
queries whatever the number of recipients, and a send task the same whatever the number of
its rows, but for one claim and one record per hand-off batch."""

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications import fan_out, sending
from notifications.models import Alert, Delivery
from tests.advisories.conftest import publish
from tests.notifications.factories import AlertFactory, DeliveryFactory
from tests.registrations.factories import CitizenFactory, PresenceFactory

pytestmark = pytest.mark.usefixtures("geography")

MESSAGE_TEXTS = {
    language: {"subject": "Leave Gao", "text": "Hello {name}, leave Gao.", "sms": "Leave Gao."}
    for language in ("en", "fr")
}


def send_queries_per_task() -> int:
    # The due rows, their alerts, their citizens' contacts and suppressions; the level
    # change's renderer reads the posts, the advisory and its region levels (with their
    # notes, which each region's readers are told; every language from these two) and the
    # region names in each language; last, the finished alerts are marked done.
    return 4 + 5 + 1


def send_queries_per_hand_off_batch() -> int:
    # The ledger's claim and record statements differ by vendor (notifications/ledger.py).
    # PostgreSQL claims a batch in one UPDATE ... RETURNING and records it in one
    # UPDATE ... FROM unnest; SQLite claims in a savepoint (the locked read, the update and the
    # read back, between SAVEPOINT and RELEASE) and records with one bulk_update.
    return 2 if connection.vendor == "postgresql" else 6


def fan_out_queries() -> int:
    # The alert locked, the INSERT ... SELECT of every row, the alert's update, and the
    # savepoint around them. PostgreSQL adds the ledger lock shared with erasures and the
    # larger work_mem of the transaction; SQLite runs one writing transaction at a time and
    # has neither.
    return 7 if connection.vendor == "postgresql" else 5


@pytest.fixture(autouse=True)
def unthrottled(settings):
    """At the channels' default rates a hundred messages would wait for seconds."""
    settings.ALERT_RATE_LIMITS = {"email": 1_000_000, "sms": 1_000_000}


def level_change_alert(staff, **fields):
    editor, approver = staff
    advisory = publish(
        country_code="ML", editor=editor, approver=approver, level=3, overrides=[("ML-7", 4)]
    )
    return AlertFactory(
        kind=Alert.Kind.LEVEL_CHANGE,
        advisory=advisory,
        changes=[{"region_code": "ML-7", "old_level": 3, "new_level": 4}],
        **fields,
    )


def pending_rows(staff, count):
    """`count` pending rows of three new alerts (a level change and two messages), to one
    citizen after another, by email then by SMS. New alerts each time, so that no renderer a
    previous send kept is reused."""
    alerts = [
        level_change_alert(staff),
        AlertFactory(texts=MESSAGE_TEXTS),
        AlertFactory(texts=MESSAGE_TEXTS),
    ]
    ids = []
    for n in range(count):
        if n % 2 == 0:
            citizen = CitizenFactory()
        row = DeliveryFactory(
            alert=alerts[n // 2 % len(alerts)],
            citizen=citizen,
            channel="email" if n % 2 == 0 else "sms",
            region_code="ML-7",
            language=citizen.language,
            status=Delivery.Status.PENDING,
            provider_id="",
            sent_at=None,
        )
        ids.append(row.id)
    return ids


def test_a_send_task_costs_the_same_queries_for_twice_the_rows_in_a_hand_off_batch(
    ml_staff, sms_outbox, django_assert_num_queries
):
    few = sending.HANDOFF_BATCH // 2
    small, large = pending_rows(ml_staff, few), pending_rows(ml_staff, 2 * few)

    with CaptureQueriesContext(connection) as small_task:
        sending.deliveries_send(delivery_ids=small)
    with django_assert_num_queries(send_queries_per_task() + send_queries_per_hand_off_batch()):
        result = sending.deliveries_send(delivery_ids=large)

    assert len(small_task.captured_queries) == (
        send_queries_per_task() + send_queries_per_hand_off_batch()
    )
    assert result.sent == 2 * few
    assert len(mail.outbox) + len(sms_outbox) == 3 * few


def test_a_send_task_costs_a_claim_and_a_record_more_per_hand_off_batch_only(
    ml_staff, sms_outbox, django_assert_num_queries
):
    one_batch = pending_rows(ml_staff, sending.HANDOFF_BATCH)
    two_batches = pending_rows(ml_staff, 2 * sending.HANDOFF_BATCH)

    with django_assert_num_queries(send_queries_per_task() + send_queries_per_hand_off_batch()):
        sending.deliveries_send(delivery_ids=one_batch)
    with django_assert_num_queries(send_queries_per_task() + 2 * send_queries_per_hand_off_batch()):
        result = sending.deliveries_send(delivery_ids=two_batches)

    assert result.sent == 2 * sending.HANDOFF_BATCH
    assert len(mail.outbox) + len(sms_outbox) == 3 * sending.HANDOFF_BATCH


def test_a_fan_out_costs_the_same_queries_whatever_the_number_of_recipients(
    ml_staff, django_assert_num_queries
):
    PresenceFactory.create_batch(3, region_id="ML-7")
    few = level_change_alert(ml_staff, state=Alert.State.FANNING_OUT)
    with CaptureQueriesContext(connection) as small:
        fan_out.alert_fan_out(alert_id=str(few.id))
    PresenceFactory.create_batch(30, region_id="ML-7")
    many = level_change_alert(ml_staff, state=Alert.State.FANNING_OUT)

    with django_assert_num_queries(fan_out_queries()):
        result = fan_out.alert_fan_out(alert_id=str(many.id))

    assert len(small.captured_queries) == fan_out_queries()
    # Each recipient by email and by SMS.
    assert result.created == 2 * 33
