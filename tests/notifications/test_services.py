import datetime
import time
from collections import Counter

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from accounts.models import Membership
from core import events, sms
from core.channels import Receipt, SendError
from core.exceptions import PermissionDenied
from core.models import OutboxEvent
from notifications import services
from notifications.models import Alert, Delivery, Suppression
from tests.accounts.factories import staff_at
from tests.advisories.conftest import publish
from tests.notifications.conftest import make_citizen

pytestmark = pytest.mark.usefixtures("eager_tasks")

Status = Delivery.Status


@pytest.fixture
def mali_at_level_3(ml_staff, django_capture_on_commit_callbacks):
    editor, approver = ml_staff
    with django_capture_on_commit_callbacks(execute=True):
        publish(country_code="ML", editor=editor, approver=approver, level=3)
    return editor, approver


def publish_gao_at_4(staff, callbacks):
    editor, approver = staff
    with callbacks(execute=True):
        publish(
            country_code="ML", editor=editor, approver=approver, level=3, overrides=[("ML-7", 4)]
        )
    return Alert.objects.order_by("-created_at").first()


def test_level_change_alerts_only_the_citizens_of_the_changed_region(
    mali_at_level_3, django_capture_on_commit_callbacks, sms_outbox
):
    in_gao = make_citizen("ML-7", language="fr", name="Fatou")
    make_citizen("ML-1", name="Moussa")
    make_citizen("LB-BA", name="Rami")
    mail.outbox.clear()

    alert = publish_gao_at_4(mali_at_level_3, django_capture_on_commit_callbacks)

    assert alert.changes == [{"region_code": "ML-7", "old_level": 3, "new_level": 4}]
    deliveries = list(Delivery.objects.filter(alert=alert))
    assert {(d.citizen_id, d.channel, d.status) for d in deliveries} == {
        (in_gao.id, "email", Status.SENT),
        (in_gao.id, "sms", Status.SENT),
    }
    assert [message.to for message in mail.outbox] == [[in_gao.email]]
    email = mail.outbox[0]
    assert "Gao" in email.subject
    assert "Formellement déconseillé" in email.subject
    assert "Fatou" in email.body
    assert email.extra_headers["List-Unsubscribe"].startswith("<http")
    assert [message.to for message in sms_outbox] == [in_gao.phone]
    assert "Gao" in sms_outbox[0].text
    assert sms_outbox[0].reference == str(
        deliveries[0].id if deliveries[0].channel == "sms" else deliveries[1].id
    )
    alert.refresh_from_db()
    assert alert.state == Alert.State.DONE
    assert alert.recipients == 2


def test_presence_without_region_and_trips_about_to_start_are_alerted(
    mali_at_level_3, django_capture_on_commit_callbacks
):
    anywhere = make_citizen(None, country_code="ML", sms=False)
    today = timezone.localdate()
    arriving = make_citizen(
        "ML-7",
        sms=False,
        start=today + datetime.timedelta(days=3),
        end=today + datetime.timedelta(days=10),
    )
    make_citizen(
        "ML-7",
        sms=False,
        start=today + datetime.timedelta(days=30),
        end=today + datetime.timedelta(days=40),
    )
    make_citizen(
        "ML-7",
        sms=False,
        start=today - datetime.timedelta(days=20),
        end=today - datetime.timedelta(days=1),
    )

    alert = publish_gao_at_4(mali_at_level_3, django_capture_on_commit_callbacks)

    assert set(Delivery.objects.filter(alert=alert).values_list("citizen_id", flat=True)) == {
        anywhere.id,
        arriving.id,
    }


def test_unverified_and_suppressed_channels_get_nothing(
    mali_at_level_3, django_capture_on_commit_callbacks
):
    unverified = make_citizen("ML-7", email_verified=False)
    stopped = make_citizen("ML-7")
    Suppression.objects.create(citizen=stopped, channel="sms", reason="opt_out")

    alert = publish_gao_at_4(mali_at_level_3, django_capture_on_commit_callbacks)

    assert set(Delivery.objects.filter(alert=alert).values_list("citizen_id", "channel")) == {
        (unverified.id, "sms"),
        (stopped.id, "email"),
    }


def test_fan_out_and_send_twice_create_and_send_nothing_more(
    mali_at_level_3, django_capture_on_commit_callbacks, sms_outbox
):
    make_citizen("ML-7")
    alert = publish_gao_at_4(mali_at_level_3, django_capture_on_commit_callbacks)
    Alert.objects.filter(id=alert.id).update(state=Alert.State.FANNING_OUT)
    ids = list(Delivery.objects.values_list("id", flat=True))

    again = services.alert_fan_out(alert_id=str(alert.id))
    resent = services.deliveries_send(delivery_ids=ids)

    assert again.created == 0
    assert resent.claimed == 0
    assert Delivery.objects.count() == 2
    assert len(sms_outbox) == 1
    assert len(mail.outbox) == 1


def test_same_event_twice_makes_one_alert(mali_at_level_3):
    from advisories.events import RegionLevelChange, RiskLevelChanged
    from advisories.models import Advisory

    advisory = Advisory.objects.get(status=Advisory.Status.PUBLISHED)
    event = RiskLevelChanged(
        advisory_id=str(advisory.id),
        country_code="ML",
        changes=(RegionLevelChange(region_code="ML-7", old_level=3, new_level=4),),
    )

    first = services.alert_create_for_level_change(event=event)
    second = services.alert_create_for_level_change(event=event)

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

    services.deliveries_send(delivery_ids=[row.id])

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
    services.deliveries_send(delivery_ids=[row.id])
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

    result = services.deliveries_sweep()

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
        result = services.deliveries_sweep()

    assert result.alerts_resumed == 1
    assert Delivery.objects.filter(alert=alert, status=Status.SENT).count() == 2


@pytest.fixture
def published_tasks(monkeypatch):
    """Send tasks are recorded as (queue, ids) instead of being run."""
    from notifications import tasks

    published: list[tuple[str, list[int]]] = []
    monkeypatch.setattr(
        tasks.send_deliveries,
        "apply_async",
        lambda args, queue: published.append((queue, list(args[0]))),
    )
    return published


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

    services.deliveries_sweep()
    # However long the queue, its rows are not published again while their lease runs.
    assert published_tasks == []

    # The broker lost the messages: once the lease runs out, the rows are published again,
    # once, under a new lease.
    Delivery.objects.filter(alert=alert).update(
        lease_expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    services.deliveries_sweep()
    assert _ids(published_tasks) == rows
    published_tasks.clear()
    services.deliveries_sweep()
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

    result = services.deliveries_sweep()

    assert result.alerts_resumed == 1
    assert _ids(published_tasks) == sorted(
        Delivery.objects.filter(alert=alert).values_list("id", flat=True)
    )
    alert.refresh_from_db()
    assert alert.enqueued_at is not None


def _ledger_rows_in_statistics() -> float:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'notifications_delivery'")
        return cursor.fetchone()[0]


@pytest.mark.postgres
# An email and an SMS to each citizen: 6 rows, then 4 (an ANALYZE outlives a rolled-back
# test, so the case that must not refresh counts differently from the one that must).
@pytest.mark.parametrize(("citizens", "threshold", "refreshed"), [(3, 6, True), (2, 5, False)])
def test_a_large_fan_out_refreshes_the_planner_statistics_before_sending(
    mali_at_level_3,
    django_capture_on_commit_callbacks,
    published_tasks,
    monkeypatch,
    citizens,
    threshold,
    refreshed,
):
    for _ in range(citizens):
        make_citizen("ML-7")
    monkeypatch.setattr(services, "ANALYZE_AFTER_ROWS", threshold)

    publish_gao_at_4(mali_at_level_3, django_capture_on_commit_callbacks)

    assert (_ledger_rows_in_statistics() == 2 * citizens) is refreshed


def test_cancel_stops_pending_rows(mali_at_level_3, django_capture_on_commit_callbacks, settings):
    settings.SMS_BACKEND = f"{__name__}.TransientFailureBackend"
    make_citizen("ML-7")
    alert = publish_gao_at_4(mali_at_level_3, django_capture_on_commit_callbacks)

    services.alert_cancel(alert=alert, cancelled_by=staff_at("ML", Membership.Role.OFFICER))

    assert Delivery.objects.get(alert=alert, channel="sms").status == Status.CANCELLED
    assert Delivery.objects.get(alert=alert, channel="email").status == Status.SENT


@pytest.mark.parametrize("role", [Membership.Role.EDITOR, Membership.Role.APPROVER])
def test_only_the_posts_officers_cancel_or_resend_an_alert(
    mali_at_level_3, django_capture_on_commit_callbacks, settings, role
):
    settings.SMS_BACKEND = f"{__name__}.TransientFailureBackend"
    make_citizen("ML-7")
    alert = publish_gao_at_4(mali_at_level_3, django_capture_on_commit_callbacks)
    editor = staff_at("ML", role, username=f"ml-second-{role}")
    foreign_officer = staff_at("LB", Membership.Role.OFFICER, username="lb-officer")

    refusals = []
    for user in (editor, foreign_officer):
        with pytest.raises(PermissionDenied) as cancel:
            services.alert_cancel(alert=alert, cancelled_by=user)
        with pytest.raises(PermissionDenied) as resend:
            services.alert_resend_failed(alert=alert, actor=user)
        refusals += [cancel.value.code, resend.value.code]

    assert refusals == ["not_allowed"] * 4
    alert.refresh_from_db()
    assert alert.state != Alert.State.CANCELLED
    assert Delivery.objects.get(alert=alert, channel="sms").status != Status.CANCELLED


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


@pytest.mark.usefixtures("geography")
def test_an_alert_removed_through_the_orm_takes_its_ledger_rows_with_it():
    # The ledger keeps no database foreign key to its alert (see `Delivery.alert`).
    from tests.notifications.factories import DeliveryFactory

    kept = DeliveryFactory()
    removed = DeliveryFactory()

    removed.alert.delete()

    assert list(Delivery.objects.all()) == [kept]
