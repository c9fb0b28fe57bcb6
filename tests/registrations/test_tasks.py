import datetime

import pytest
import time_machine
from django.core import mail

from core.channels import SendError
from registrations import tasks
from registrations.models import Citizen
from tests.registrations.factories import CitizenFactory, PresenceFactory, trip_leg

pytestmark = pytest.mark.usefixtures("geography")

NOW = datetime.datetime(2026, 11, 24, 3, tzinfo=datetime.UTC)


@time_machine.travel(NOW, tick=False)
def test_apply_retention_returns_what_it_removed():
    trip_leg(start_date=datetime.date(2026, 9, 1), end_date=datetime.date(2026, 9, 10))
    PresenceFactory()

    assert tasks.apply_retention() == {
        "presences": 1,
        "citizens_without_presence": 1,
        "citizens_unconfirmed": 0,
    }
    assert tasks.apply_retention() == {
        "presences": 0,
        "citizens_without_presence": 0,
        "citizens_unconfirmed": 0,
    }


def test_yearly_confirmations_are_sent_in_chunks_and_only_once(monkeypatch):
    monkeypatch.setattr(tasks, "CONFIRMATION_CHUNK", 2)
    with time_machine.travel(NOW - datetime.timedelta(days=400), tick=False):
        for _number in range(3):
            PresenceFactory(start_date=datetime.date(2024, 1, 1))

    with time_machine.travel(NOW, tick=False):
        first = tasks.request_yearly_confirmations()
        again = tasks.request_yearly_confirmations()

    assert first == {"due": 3}
    assert again == {"due": 0}
    assert len(mail.outbox) == 3
    assert Citizen.objects.filter(confirmation_requested_at=NOW).count() == 3


def test_sending_tasks_are_harmless_when_redelivered(sms_outbox):
    citizen = CitizenFactory(phone_verified_at=None)

    assert tasks.send_due_verification_emails() == {"sent": 0}  # none due
    assert tasks.send_phone_code(str(citizen.id)) == {"sent": 1}
    assert tasks.send_phone_code(str(citizen.id)) == {"sent": 0}  # within the resend interval
    assert tasks.send_manage_link("00000000-0000-0000-0000-000000000000") == {"sent": 0}
    assert len(sms_outbox) == 1


def test_a_refused_sms_leaves_no_code_so_the_retry_sends_a_fresh_one(settings, sms_outbox):
    citizen = CitizenFactory(phone_verified_at=None)
    settings.SMS_BACKEND = "core.sms.backends.unconfigured.SmsBackend"

    with pytest.raises(SendError):
        tasks.send_phone_code.run(str(citizen.id))
    citizen.refresh_from_db()
    assert citizen.phone_code_hash == ""
    assert citizen.phone_code_sent_at is None

    settings.SMS_BACKEND = "core.sms.backends.locmem.SmsBackend"
    assert tasks.send_phone_code.run(str(citizen.id)) == {"sent": 1}
    assert len(sms_outbox) == 1


def test_sending_tasks_run_on_their_channel_queue():
    assert tasks.send_due_verification_emails.queue == "email"
    assert tasks.send_phone_code.queue == "sms"
    assert tasks.send_phone_code.max_retries == 3
