import pytest
from django.core import mail
from django.db import connection

from notifications import fan_out, ledger, sending
from notifications.models import Alert, Delivery
from tests.notifications.conftest import make_citizen, publish_gao_at_4

pytestmark = pytest.mark.usefixtures("eager_tasks")

Status = Delivery.Status


def test_fan_out_and_send_twice_create_and_send_nothing_more(
    mali_at_level_3, django_capture_on_commit_callbacks, sms_outbox
):
    make_citizen("ML-7")
    alert = publish_gao_at_4(mali_at_level_3, django_capture_on_commit_callbacks)
    Alert.objects.filter(id=alert.id).update(state=Alert.State.FANNING_OUT)
    ids = list(Delivery.objects.values_list("id", flat=True))

    again = fan_out.alert_fan_out(alert_id=str(alert.id))
    resent = sending.deliveries_send(delivery_ids=ids)

    assert again.created == 0
    assert resent.claimed == 0
    assert Delivery.objects.count() == 2
    assert len(sms_outbox) == 1
    assert len(mail.outbox) == 1


@pytest.mark.parametrize(
    "postgresql_form",
    [
        pytest.param(True, marks=pytest.mark.postgres, id="postgresql"),
        pytest.param(False, id="portable"),
    ],
)
def test_fan_out_counts_each_person_once_and_each_of_their_channels_as_a_message(
    mali_at_level_3,
    django_capture_on_commit_callbacks,
    published_tasks,
    monkeypatch,
    postgresql_form,
):
    make_citizen("ML-7")
    make_citizen("ML-7", sms=False)
    make_citizen("ML-1")
    # The portable statement is plain SQL that PostgreSQL runs too.
    monkeypatch.setattr(ledger, "_on_postgresql", lambda: postgresql_form)

    alert = publish_gao_at_4(mali_at_level_3, django_capture_on_commit_callbacks)
    Alert.objects.filter(id=alert.id).update(state=Alert.State.FANNING_OUT)
    again = fan_out.alert_fan_out(alert_id=str(alert.id))

    assert (alert.people, alert.messages) == (2, 3)
    assert Delivery.objects.filter(alert=alert).count() == 3
    # A second run writes nothing, so it reaches nobody more.
    assert (again.created, again.people) == (0, 0)


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
    monkeypatch.setattr(ledger, "ANALYZE_AFTER_ROWS", threshold)

    publish_gao_at_4(mali_at_level_3, django_capture_on_commit_callbacks)

    assert (_ledger_rows_in_statistics() == 2 * citizens) is refreshed
