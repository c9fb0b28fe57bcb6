import datetime
import time
from collections import Counter

import pytest
from django.utils import timezone

from core import sms
from core.channels import Receipt, SendError
from notifications import sending
from notifications.models import Alert, Delivery
from tests.notifications.conftest import make_citizen, publish_gao_at_4

pytestmark = pytest.mark.usefixtures("eager_tasks")

Status = Delivery.Status


class TransientFailureBackend(sms.SmsProvider):
    def send(self, message):
        raise SendError("HTTP 503", code="503", permanent=False)


class PermanentFailureBackend(sms.SmsProvider):
    def send(self, message):
        raise SendError("HTTP 400", code="400", permanent=True)


def test_transient_failure_is_retried_later_then_fails_at_the_limit(
    mali_at_level_3, django_capture_on_commit_callbacks, settings
):
    settings.SMS_BACKEND = f"{__name__}.TransientFailureBackend"
    settings.ALERT_MAX_ATTEMPTS = 2
    make_citizen("ML-7")

    alert = publish_gao_at_4(mali_at_level_3, django_capture_on_commit_callbacks)

    row = Delivery.objects.get(alert=alert, channel="sms")
    assert row.status == Status.PENDING
    assert row.attempts == 1
    assert row.error_code == "503"
    assert row.next_attempt_at > timezone.now() + datetime.timedelta(seconds=10)
    Delivery.objects.filter(id=row.id).update(next_attempt_at=timezone.now())

    sending.deliveries_send(delivery_ids=[row.id])

    row.refresh_from_db()
    assert row.status == Status.FAILED
    assert row.attempts == 2
    assert row.provider_id == ""


def test_retry_backoff_follows_the_configured_base_and_cap(
    mali_at_level_3, django_capture_on_commit_callbacks, settings
):
    settings.SMS_BACKEND = f"{__name__}.TransientFailureBackend"
    settings.ALERT_RETRY_BASE_SECONDS = 400
    settings.ALERT_RETRY_MAX_SECONDS = 500
    make_citizen("ML-7")

    alert = publish_gao_at_4(mali_at_level_3, django_capture_on_commit_callbacks)
    row = Delivery.objects.get(alert=alert, channel="sms")
    first_wait = row.next_attempt_at - timezone.now()
    Delivery.objects.filter(id=row.id).update(next_attempt_at=timezone.now())
    sending.deliveries_send(delivery_ids=[row.id])
    row.refresh_from_db()
    second_wait = row.next_attempt_at - timezone.now()

    assert datetime.timedelta(seconds=190) < first_wait <= datetime.timedelta(seconds=400)
    # 800 s capped at 500: between 250 and 500.
    assert datetime.timedelta(seconds=240) < second_wait <= datetime.timedelta(seconds=500)


def test_permanent_failure_fails_at_once(
    mali_at_level_3, django_capture_on_commit_callbacks, settings
):
    settings.SMS_BACKEND = f"{__name__}.PermanentFailureBackend"
    make_citizen("ML-7")

    alert = publish_gao_at_4(mali_at_level_3, django_capture_on_commit_callbacks)

    row = Delivery.objects.get(alert=alert, channel="sms")
    assert (row.status, row.attempts, row.error_code) == (Status.FAILED, 1, "400")
    assert Delivery.objects.get(alert=alert, channel="email").status == Status.SENT


def test_unconfigured_sms_never_marks_a_message_sent(
    mali_at_level_3, django_capture_on_commit_callbacks, settings
):
    settings.SMS_BACKEND = "core.sms.backends.unconfigured.SmsBackend"
    make_citizen("ML-7")

    alert = publish_gao_at_4(mali_at_level_3, django_capture_on_commit_callbacks)

    row = Delivery.objects.get(alert=alert, channel="sms")
    assert row.status == Status.PENDING
    assert row.error_code == "not_configured"


def test_sweeper_flags_a_lost_hand_off_ambiguous_and_resends_a_lost_queue(
    mali_at_level_3, django_capture_on_commit_callbacks, sms_outbox
):
    make_citizen("ML-7")
    make_citizen("ML-7")
    alert = publish_gao_at_4(mali_at_level_3, django_capture_on_commit_callbacks)
    # As a worker killed mid-task leaves them: one row claimed for its hand-off, lease run
    # out; the next one still pending, its task lost with the worker, its queue lease run out.
    long_ago = timezone.now() - datetime.timedelta(hours=1)
    rows = list(Delivery.objects.filter(alert=alert, channel="sms").order_by("id"))
    Delivery.objects.filter(id=rows[0].id).update(
        status=Status.SENDING, lease_expires_at=long_ago, handoff_at=long_ago, provider_id=""
    )
    Delivery.objects.filter(id=rows[1].id).update(
        status=Status.PENDING, lease_expires_at=long_ago, handoff_at=None, provider_id=""
    )
    Alert.objects.filter(id=alert.id).update(state=Alert.State.SENDING)
    sms_outbox.clear()

    result = sending.deliveries_sweep()

    assert (result.ambiguous, result.requeued) == (1, 1)
    assert Delivery.objects.get(id=rows[0].id).status == Status.AMBIGUOUS
    assert Delivery.objects.get(id=rows[1].id).status == Status.SENT
    assert len(sms_outbox) == 1
    alert.refresh_from_db()
    assert alert.state == Alert.State.DONE


def test_sweeper_fans_out_an_alert_whose_fan_out_was_lost(
    mali_at_level_3, django_capture_on_commit_callbacks
):
    from advisories.models import Advisory

    make_citizen("ML-7")
    Alert.objects.all().delete()
    # What a process that died between committing the alert and enqueuing its fan-out leaves.
    alert = Alert.objects.create(
        kind=Alert.Kind.LEVEL_CHANGE,
        advisory=Advisory.objects.get(status=Advisory.Status.PUBLISHED),
        country_id="ML",
        changes=[{"region_code": "ML-7", "old_level": 3, "new_level": 4}],
        region_codes=["ML-7"],
    )
    Alert.objects.filter(id=alert.id).update(
        created_at=timezone.now() - datetime.timedelta(hours=1)
    )

    with django_capture_on_commit_callbacks(execute=True):
        result = sending.deliveries_sweep()

    assert result.alerts_resumed == 1
    assert Delivery.objects.filter(alert=alert, status=Status.SENT).count() == 2


def _ids(published):
    return sorted(delivery_id for _, ids in published for delivery_id in ids)


def test_sweeper_leaves_queued_rows_to_their_queue_until_their_lease_runs_out(
    mali_at_level_3, django_capture_on_commit_callbacks, published_tasks
):
    make_citizen("ML-7")
    alert = publish_gao_at_4(mali_at_level_3, django_capture_on_commit_callbacks)
    rows = sorted(Delivery.objects.filter(alert=alert).values_list("id", flat=True))
    assert _ids(published_tasks) == rows
    published_tasks.clear()

    sending.deliveries_sweep()
    # However long the queue, its rows are not published again while their lease runs.
    assert published_tasks == []

    # The broker lost the messages: once the lease runs out, the rows are published again,
    # once, under a new lease.
    Delivery.objects.filter(alert=alert).update(
        lease_expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    sending.deliveries_sweep()
    assert _ids(published_tasks) == rows
    published_tasks.clear()
    sending.deliveries_sweep()
    assert published_tasks == []


def test_sweeper_publishes_an_alert_whose_rows_were_never_published(
    mali_at_level_3, django_capture_on_commit_callbacks, published_tasks
):
    make_citizen("ML-7")
    alert = publish_gao_at_4(mali_at_level_3, django_capture_on_commit_callbacks)
    # What a process that died between committing the rows and publishing their tasks leaves.
    Alert.objects.filter(id=alert.id).update(
        enqueued_at=None, fanned_out_at=timezone.now() - datetime.timedelta(hours=1)
    )
    published_tasks.clear()

    result = sending.deliveries_sweep()

    assert result.alerts_resumed == 1
    assert _ids(published_tasks) == sorted(
        Delivery.objects.filter(alert=alert).values_list("id", flat=True)
    )
    alert.refresh_from_db()
    assert alert.enqueued_at is not None


class ClockedBackend(sms.SmsProvider):
    """Records when each message was handed over."""

    sent_at: list[float] = []

    def send(self, message):
        ClockedBackend.sent_at.append(time.time())
        return Receipt(provider_id=f"clocked-{len(ClockedBackend.sent_at)}")


def test_sending_never_exceeds_the_channel_rate(
    mali_at_level_3, django_capture_on_commit_callbacks, settings
):
    settings.SMS_BACKEND = f"{__name__}.ClockedBackend"
    settings.ALERT_RATE_LIMITS = {"email": 1000, "sms": 4}
    ClockedBackend.sent_at = []
    for _ in range(10):
        make_citizen("ML-7")

    publish_gao_at_4(mali_at_level_3, django_capture_on_commit_callbacks)

    per_second = Counter(int(moment) for moment in ClockedBackend.sent_at)
    assert len(ClockedBackend.sent_at) == 10
    assert max(per_second.values()) <= 4
    assert len(per_second) >= 3
