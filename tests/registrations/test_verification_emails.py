import re

import pytest
from django.core import mail
from django.core.cache import cache
from django.utils import timezone

from bench.sinks import smtp_sink
from core.cache_client import redis_client
from registrations import services, verification_emails
from registrations.models import Citizen
from tests.registrations.factories import CitizenFactory


def _due(count: int, **fields) -> list[Citizen]:
    return CitizenFactory.create_batch(
        count, email_verified_at=None, email_verification_due_at=timezone.now(), **fields
    )


def _smtp(settings, port: int) -> None:
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 10},
        }
    }


def _closed_port() -> int:
    with smtp_sink() as sink:
        return sink.port


@pytest.mark.django_db
def test_the_emails_due_go_out_in_each_language_and_only_once():
    french, english = _due(1, language="fr")[0], _due(1, language="en")[0]

    assert verification_emails.verification_emails_send() == 2
    assert verification_emails.verification_emails_send() == 0

    by_address = {message.to[0]: message for message in mail.outbox}
    assert by_address[french.email].subject == "Confirmez votre adresse électronique"
    assert by_address[english.email].subject == "Confirm your email address"
    token = re.search(r"/verify-email/([^/\s]+)/", by_address[french.email].body)
    assert token is not None
    assert services.email_verify(token=token.group(1)).id == french.id
    assert not Citizen.objects.filter(email_verification_due_at__isnull=False).exists()


@pytest.mark.django_db
def test_a_citizen_who_verified_meanwhile_is_sent_nothing():
    citizen = _due(1)[0]
    Citizen.objects.filter(id=citizen.id).update(email_verified_at=timezone.now())

    assert verification_emails.verification_emails_send() == 0
    assert mail.outbox == []
    citizen.refresh_from_db()
    assert citizen.email_verification_due_at is None


@pytest.mark.django_db
def test_batches_reach_a_real_smtp_server_and_an_unknown_mailbox_is_not_retried(settings):
    citizens = _due(5)
    unknown = citizens[2].email
    with smtp_sink(unknown_recipients=frozenset({unknown})) as sink:
        _smtp(settings, sink.port)

        assert verification_emails.verification_emails_send(batch=2) == 4

    assert sorted(recipient for _, (recipient,), _ in sink.messages) == sorted(
        citizen.email for citizen in citizens if citizen.email != unknown
    )
    assert not Citizen.objects.filter(email_verification_due_at__isnull=False).exists()


@pytest.mark.django_db
def test_an_smtp_server_down_loses_nothing_and_the_next_run_sends(settings):
    citizens = _due(3)
    _smtp(settings, _closed_port())

    assert verification_emails.verification_emails_send() == 0
    assert Citizen.objects.filter(email_verification_due_at__isnull=False).count() == 3

    with smtp_sink() as sink:
        _smtp(settings, sink.port)
        assert verification_emails.verification_emails_send() == 3
    assert len(sink.messages) == len(citizens)


@pytest.mark.django_db
def test_a_task_hands_over_to_a_fresh_one_past_its_share(monkeypatch):
    enqueued = []
    monkeypatch.setattr("core.queue.enqueue", lambda name, *args, **kwargs: enqueued.append(name))
    _due(5)

    assert verification_emails.verification_emails_send(batch=2, limit=3) == 4
    assert enqueued == [verification_emails.SEND_DUE_VERIFICATION_EMAILS]
    assert Citizen.objects.filter(email_verification_due_at__isnull=False).count() == 1


def test_one_task_is_queued_for_many_kicks_until_it_starts(monkeypatch):
    enqueued = []
    monkeypatch.setattr("core.queue.enqueue", lambda name, *args, **kwargs: enqueued.append(name))

    for _ in range(50):
        verification_emails.verification_emails_kick()
    assert len(enqueued) == 1

    # The task clears the kick as it starts: a row committed from then on kicks again.
    cache.delete(verification_emails.KICK_KEY)
    verification_emails.verification_emails_kick()
    assert len(enqueued) == 2


@pytest.mark.redis
def test_the_kick_is_one_redis_key_that_expires(monkeypatch):
    monkeypatch.setattr("core.queue.enqueue", lambda name, *args, **kwargs: None)
    verification_emails.verification_emails_kick()

    client = redis_client()
    assert client is not None
    key = cache.make_and_validate_key(verification_emails.KICK_KEY)
    assert 0 < client.ttl(key) <= verification_emails.KICK_SECONDS
    # The key Django's cache API names: the task clears it through that API.
    cache.delete(verification_emails.KICK_KEY)
    assert client.ttl(key) == -2
