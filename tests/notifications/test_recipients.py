import datetime

import pytest
from django.core import mail
from django.utils import timezone

from notifications.models import Alert, Delivery, Suppression
from tests.notifications.conftest import make_citizen, publish_gao_at_4

pytestmark = pytest.mark.usefixtures("eager_tasks")

Status = Delivery.Status


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
    assert (alert.people, alert.messages) == (1, 2)


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
