"""The whole path on the production components: PostgreSQL, RabbitMQ, a real Celery worker
process, a real SMTP server and an HTTP SMS provider on loopback."""

import datetime
import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

import pytest
from django.db import connection
from kombu import Connection, Exchange, Queue

from bench.sinks import sms_sink, smtp_sink
from consular.celery import app as celery_app
from notifications.models import Alert, Delivery
from registrations.models import Citizen, HouseholdMember
from tests.advisories.conftest import publish
from tests.notifications.conftest import make_citizen

pytestmark = [pytest.mark.postgres, pytest.mark.broker, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]


def _worker_env(smtp_port: int, sms_url: str) -> dict[str, str]:
    db = connection.settings_dict
    return {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_BROKER_URL": celery_app.conf.broker_url,
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
        "SMS_BACKEND": "core.sms.backends.http.SmsBackend",
        "SMS_HTTP_URL": sms_url,
    }


def _start_worker(env: dict[str, str], log: IO[bytes] | None = None) -> subprocess.Popen[bytes]:
    """A worker process; with `log`, at INFO (production's level) with its output kept there."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "consular",
            "worker",
            "--queues",
            "default,email,sms",
            "--concurrency",
            "2",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "INFO" if log is not None else "WARNING",
        ],
        cwd=ROOT,
        env={**env, "LOG_LEVEL": "INFO"} if log is not None else env,
        stdout=log,
        stderr=subprocess.STDOUT if log is not None else None,
    )


def _wait_until_settled(alert: Alert, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alert.refresh_from_db()
        if alert.state == Alert.State.DONE:
            return
        time.sleep(0.3)
    raise AssertionError(f"alert still {alert.state} after {timeout} s")


def _give_every_personal_detail(citizen: Citizen, number: int) -> None:
    """Fill every encrypted field with a value of its own, to be looked for afterwards."""
    citizen.id_document_number = f"DOC-CANARY-{number}"
    citizen.date_of_birth = datetime.date(1970 + number, 3, 14)
    citizen.emergency_contact_name = f"Emergencycanary{number}"
    citizen.emergency_contact_phone = f"+96130099{number:02d}"
    citizen.emergency_contact_email = f"ice-canary-{number}@example.org"
    citizen.save()
    HouseholdMember.objects.create(
        citizen=citizen,
        name=f"Householdcanary{number}",
        relation="child",
        date_of_birth=datetime.date(2010 + number, 7, 21),
        phone=f"+96130088{number:02d}",
    )


def _canaries(citizen: Citizen) -> list[str]:
    member = citizen.household_members.get()
    return [
        citizen.given_name,
        citizen.email,
        citizen.phone,
        citizen.id_document_number,
        str(citizen.date_of_birth),
        citizen.emergency_contact_name,
        citizen.emergency_contact_phone,
        citizen.emergency_contact_email,
        member.name,
        member.phone,
        str(member.date_of_birth),
    ]


@pytest.fixture
def broker_tap():
    """Every message published on the broker during the test, through RabbitMQ's firehose."""
    # The firehose is per virtual host: the broker URL's own.
    vhost = Connection(celery_app.conf.broker_url).virtual_host or "/"
    subprocess.run(
        ["/usr/sbin/rabbitmqctl", "-q", "trace_on", "-p", vhost], check=True, capture_output=True
    )
    tap = Queue(
        "test-firehose",
        Exchange("amq.rabbitmq.trace", type="topic", passive=True),
        routing_key="publish.#",
        auto_delete=True,
        exclusive=False,
    )
    with Connection(celery_app.conf.broker_url) as conn:
        tap(conn.default_channel).declare()
        tap(conn.default_channel).purge()
        published: list[bytes] = []

        def drain() -> list[bytes]:
            channel = conn.channel()
            while (message := tap(channel).get(no_ack=True)) is not None:
                published.append(
                    message.body if isinstance(message.body, bytes) else message.body.encode()
                )
                published.append(json.dumps(message.headers, default=str).encode())
            return published

        yield drain
        tap(conn.default_channel).delete()
    subprocess.run(
        ["/usr/sbin/rabbitmqctl", "-q", "trace_off", "-p", vhost], check=True, capture_output=True
    )


def test_level_change_reaches_exactly_the_citizens_of_the_region(
    geography, ml_staff, broker_tap, caplog, tmp_path
):
    caplog.set_level(logging.INFO)
    celery_app.control.purge()
    editor, approver = ml_staff
    publish(country_code="ML", editor=editor, approver=approver, level=3)
    Alert.objects.all().delete()
    gao_fr = make_citizen("ML-7", language="fr", name="Fatoumata")
    gao_en = make_citizen("ML-7", language="en", name="Jonathan")
    kayes = make_citizen("ML-1", name="Mariam")
    beirut = make_citizen("LB-BA", name="Rania")
    citizens = (gao_fr, gao_en, kayes, beirut)
    for number, citizen in enumerate(citizens):
        _give_every_personal_detail(citizen, number)

    worker_log_path = tmp_path / "worker.log"
    with smtp_sink() as smtp, sms_sink() as sms, worker_log_path.open("wb") as worker_log:
        worker = _start_worker(_worker_env(smtp.port, sms.url), worker_log)
        try:
            publish(
                country_code="ML",
                editor=editor,
                approver=approver,
                level=3,
                overrides=[("ML-7", 4)],
            )
            alert = Alert.objects.get()
            _wait_until_settled(alert)
        finally:
            worker.terminate()
            worker.wait(timeout=30)

        published = b"\n".join(broker_tap())

    rows = Delivery.objects.filter(alert=alert)
    assert rows.count() == 4
    assert set(rows.values_list("status", flat=True)) == {Delivery.Status.SENT}
    assert sorted(rcpt for _, rcpts, _ in smtp.messages for rcpt in rcpts) == sorted(
        [gao_fr.email, gao_en.email]
    )
    assert sorted(smtp.delivery_ids()) == sorted(
        str(i) for i in rows.filter(channel="email").values_list("id", flat=True)
    )
    by_address = {rcpts[0]: parsed for _, rcpts, parsed in smtp.messages}
    assert "Gao" in by_address[gao_fr.email]["Subject"]
    assert "Formellement déconseillé" in " ".join(by_address[gao_fr.email]["Subject"].split())
    assert "Do not travel" in by_address[gao_en.email]["Subject"]
    assert "Fatoumata" in by_address[gao_fr.email].get_body(("plain",)).get_content()
    sms_by_number = {message["to"]: message for message in sms.messages}
    assert set(sms_by_number) == {gao_fr.phone, gao_en.phone}
    assert "Gao" in sms_by_number[gao_en.phone]["body"]
    assert "Do not travel" in sms_by_number[gao_en.phone]["body"]
    assert "Formellement déconseillé" in sms_by_number[gao_fr.phone]["body"]
    assert set(rows.filter(channel="sms").values_list("provider_id", flat=True)) == {
        message["id"] for message in sms.messages
    }
    # What crossed the broker: ids only, never a name, an address or a number.
    assert b"fan_out_alert" in published
    assert b"send_deliveries" in published
    for citizen in citizens:
        for canary in _canaries(citizen):
            assert canary.encode() not in published
    # What was logged, by the worker and by this process (publication, fan-out trigger): the
    # same. The worker's log is checked to hold its task lines, so an empty file cannot pass.
    worker_lines = worker_log_path.read_text(errors="replace")
    assert "send_deliveries" in worker_lines
    logged = worker_lines + "\n".join(record.getMessage() for record in caplog.records)
    for citizen in citizens:
        for canary in _canaries(citizen):
            assert canary not in logged
