"""The fan-out benchmark behind `make bench` (`manage.py bench_fanout`).

It seeds a register in SQL, publishes a Mali level change, and times the real path (event,
fan-out task, send tasks on real worker processes) against local sinks running in their own
processes, whose ceilings it measures in the same run with a bare client. It also runs a naive
baseline: one task per recipient that creates its row with the ORM and sends on a fresh
connection. Benchmark-only code: workers load it with `--include notifications.benchmark`."""

import contextlib
import http.client
import json
import multiprocessing
import os
import signal
import smtplib
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection as Pipe
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from celery import shared_task
from django.conf import settings
from django.db import connection, models
from django.utils import timezone

from advisories.events import RiskLevelChanged
from core import crypto
from notifications.channels import get_channel
from notifications.channels.email import sendmail_pipelined
from notifications.messages import AlertRenderer
from notifications.models import Alert, Delivery
from notifications.sinks import sms_sink, smtp_sink
from registrations.models import Citizen, Presence
from registrations.selectors import citizen_contacts

ROOT = Path(__file__).resolve().parent.parent
MALI_REGIONS = [f"ML-{n}" for n in range(1, 11)] + ["ML-BKO"]
LEBANON_REGIONS = ["LB-AK", "LB-AS", "LB-BA", "LB-BH", "LB-BI", "LB-JA", "LB-JL", "LB-NA"]


# --- sinks in their own processes -------------------------------------------------------------


def _serve_sink(kind: str, address: Any, received: Any, stop: Any, ids_out: Pipe) -> None:
    """Run one sink until told to stop, publishing how many messages it accepted; then send
    back every delivery id it saw (email ids, or SMS references)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if kind == "email":
        with smtp_sink(keep_content=False) as smtp:
            address.put(smtp.port)
            while not stop.wait(0.05):
                received.value = len(smtp.messages)
            ids_out.send(smtp.delivery_ids())
    else:
        with sms_sink() as sms:
            address.put(sms.url)
            while not stop.wait(0.05):
                received.value = len(sms.messages)
            ids_out.send(sms.references())


@dataclass
class Sink:
    address: Any  # the SMTP port, or the SMS endpoint's URL
    received: Any  # a multiprocessing.Value("l") the sink process keeps up to date
    stop: Any
    ids_in: Pipe
    process: Any


@dataclass
class Sinks:
    """The SMTP and SMS sinks, each in a process of its own: in one process they would share
    one interpreter lock, and the hand-off could not reach the sum of their ceilings, which
    are measured one sink at a time."""

    email: Sink
    sms: Sink

    @property
    def smtp_port(self) -> int:
        return int(self.email.address)

    @property
    def sms_url(self) -> str:
        return str(self.sms.address)

    def count(self) -> int:
        return int(self.email.received.value) + int(self.sms.received.value)

    def collected_ids(self) -> tuple[list[str], list[str]]:
        for sink in (self.email, self.sms):
            sink.stop.set()
        email_ids: list[str] = self.email.ids_in.recv()
        sms_ids: list[str] = self.sms.ids_in.recv()
        for sink in (self.email, self.sms):
            sink.process.join(timeout=30)
        return email_ids, sms_ids


@contextlib.contextmanager
def running_sinks() -> Iterator[Sinks]:
    context = multiprocessing.get_context("fork")
    started = []
    for kind in ("email", "sms"):
        address, stop = context.Queue(), context.Event()
        received = context.Value("l", 0)
        ids_in, ids_out = context.Pipe(duplex=False)
        process = context.Process(target=_serve_sink, args=(kind, address, received, stop, ids_out))
        process.start()
        started.append(Sink(address.get(timeout=30), received, stop, ids_in, process))
    try:
        yield Sinks(*started)
    finally:
        for sink in started:
            if sink.process.is_alive():
                sink.stop.set()
                sink.process.join(timeout=10)
                sink.process.kill()


# A message as large as an alert email (text and HTML alternatives, base64): the ceiling is
# measured on the same bytes per message as the real hand-off carries.
_CEILING_BODY = ("x" * 76 + "\r\n") * 60


def _smtp_ceiling_client(port: int, count: int, first: int) -> None:
    """Send prebuilt messages, so the client costs next to nothing and the sink is measured."""
    messages = [
        (
            "From: bench@example.org\r\nTo: c@example.org\r\nSubject: ceiling\r\n"
            f"X-Consular-Delivery: {n}\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain\r\n\r\n" + _CEILING_BODY
        ).encode()
        for n in range(first, first + count)
    ]
    with smtplib.SMTP("127.0.0.1", port) as client:
        client.ehlo()
        # The same wire protocol as the channel's: pipelined, one round trip a message.
        for refusal in sendmail_pipelined(
            client, "bench@example.org", [("c@example.org", raw) for raw in messages]
        ):
            if refusal is not None:
                raise refusal


def _sms_ceiling_client(url: str, count: int, first: int) -> None:
    target = urlsplit(url)
    client = http.client.HTTPConnection(target.hostname or "127.0.0.1", target.port, timeout=10)
    for n in range(first, first + count):
        body = json.dumps({"to": "+22370000000", "body": "x" * 150, "reference": str(n)})
        client.request("POST", target.path, body, {"Content-Type": "application/json"})
        client.getresponse().read()
    client.close()


def _accepted(sink: Sink, count: int) -> Callable[[], bool]:
    return lambda: int(sink.received.value) >= count


def sink_ceilings(*, messages: int = 3000, clients: int = 4) -> dict[str, float]:
    """Messages per second each sink accepts from bare clients (no database, no Celery, no
    message building): client processes of their own, so neither the GIL nor our code is what
    is measured."""
    ceilings = {}
    context = multiprocessing.get_context("fork")
    per_client = messages // clients
    with running_sinks() as sinks:
        for name, target, address in (
            ("email", _smtp_ceiling_client, sinks.smtp_port),
            ("sms", _sms_ceiling_client, sinks.sms_url),
        ):
            processes = [
                context.Process(target=target, args=(address, per_client, n * per_client))
                for n in range(clients)
            ]
            started = time.perf_counter()
            for process in processes:
                process.start()
            for process in processes:
                process.join()
            elapsed = time.perf_counter() - started
            sink = sinks.email if name == "email" else sinks.sms
            # Counted where they arrived: a client that failed early must not look fast.
            wait_for(_accepted(sink, per_client * clients), timeout=10)
            ceilings[name] = round(per_client * clients / elapsed, 1)
    return ceilings


# --- worker processes --------------------------------------------------------------------------


def _tree(pid: int) -> list[int]:
    """A process and all its descendants, from /proc."""
    found, stack = [], [pid]
    while stack:
        current = stack.pop()
        found.append(current)
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{current}/task").iterdir():
                stack.extend(int(child) for child in (task / "children").read_text().split())
    return found


def _tree_rss_kib(pid: int) -> int:
    total = 0
    for current in _tree(pid):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total


def _cpu_seconds(pids: Sequence[int]) -> float:
    """User and system CPU time the processes, and their children that have ended, have used
    so far (PostgreSQL's backends come and go)."""
    ticks = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += sum(int(value) for value in fields[11:15])
    return ticks / os.sysconf("SC_CLK_TCK")


def _named_pids(name: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            if entry.name.isdigit() and (entry / "comm").read_text().strip() == name:
                pids.append(int(entry.name))
    return pids


def cpu_use(workers: "Workers", sinks: "Sinks") -> dict[str, float]:
    """CPU seconds used so far by the workers, the sinks and the local servers: where a
    hand-off's time goes on a machine whose cores they share."""
    return {
        "workers": _cpu_seconds([pid for p in workers.processes for pid in _tree(p.pid)]),
        "sinks": _cpu_seconds([sinks.email.process.pid, sinks.sms.process.pid]),
        "postgres": _cpu_seconds(_named_pids("postgres")),
        "broker": _cpu_seconds(_named_pids("beam.smp")),
        "redis": _cpu_seconds(_named_pids("redis-server")),
    }


@dataclass
class Workers:
    processes: list[subprocess.Popen[bytes]]
    peak_rss_kib: int = 0
    sampling: bool = True

    def sample_forever(self) -> None:
        while self.sampling:
            rss = sum(_tree_rss_kib(process.pid) for process in self.processes)
            self.peak_rss_kib = max(self.peak_rss_kib, rss)
            time.sleep(0.2)


@contextlib.contextmanager
def running_workers(*, sinks: Sinks, processes: int, concurrency: int) -> Iterator[Workers]:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": (
            f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        ),
        "EMAIL_URL": f"smtp://127.0.0.1:{sinks.smtp_port}",
        "SMS_BACKEND": "core.sms.backends.http.SmsBackend",
        "SMS_HTTP_URL": sinks.sms_url,
        "LOG_LEVEL": "WARNING",
        # As deployed: DEBUG would log every query the workers make.
        "DEBUG": "false",
    }
    command = [
        sys.executable, "-m", "celery", "-A", "consular", "worker", "--include",
        "notifications.benchmark", "--queues", "default,email,sms", "--concurrency",
        str(concurrency), "--without-gossip", "--without-mingle", "--loglevel", "WARNING",
    ]  # fmt: skip
    workers = Workers(
        [
            subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
                [*command, "--hostname", f"bench{n}@%h"], cwd=ROOT, env=env
            )
            for n in range(processes)
        ]
    )
    sampler = threading.Thread(target=workers.sample_forever, daemon=True)
    sampler.start()
    try:
        yield workers
    finally:
        workers.sampling = False
        for process in workers.processes:
            process.send_signal(signal.SIGTERM)
        for process in workers.processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()


# --- the register, seeded in SQL ---------------------------------------------------------------


def _insert_generated(
    model: type[models.Model],
    rows_sql: str,
    values: dict[str, str],
    rows_params: Sequence[Any] = (),
) -> None:
    """INSERT ... SELECT over `rows_sql` (which yields `n`): each column takes its SQL
    expression from `values`, else its default (empty for a blank text field), else NULL."""
    columns, expressions = [], []
    params: list[Any] = []
    for field in model._meta.concrete_fields:
        columns.append(connection.ops.quote_name(str(field.column)))
        if field.name in values:
            expressions.append(values[field.name])
        elif field.has_default() or not field.null:
            expressions.append("%s")
            params.append(field.get_db_prep_save(field.get_default(), connection))
        else:
            expressions.append("NULL")
    table = connection.ops.quote_name(model._meta.db_table)
    # Built from model metadata and this module's constants; values go as parameters.
    sql = f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(expressions)} FROM {rows_sql}"  # noqa: S608, E501
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *rows_params])


# Citizens encrypted and inserted per statement: bounds memory for the million-citizen run.
SEED_CHUNK = 100_000


def seed_register(*, size: int) -> None:
    """`size` citizens in Mali (residents and travellers over its 11 regions) and a tenth as
    many in Lebanon; 90 % with a verified email and 60 % with a verified phone."""
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE notifications_delivery, notifications_alert, notifications_suppression, "
            "registrations_presence, registrations_citizen CASCADE"
        )
    now = "now()"
    people = size + size // 10
    for first in range(1, people + 1, SEED_CHUNK):
        numbers = range(first, min(first + SEED_CHUNK, people + 1))
        # Addresses and numbers are stored encrypted with their keyed hashes, as the register
        # stores them: the database cannot compute either, so they come in as arrays.
        # The ids are drawn here too, as each value is encrypted bound to its row.
        ids = [uuid.uuid4() for _ in numbers]
        emails = [f"bench{n}@example.org" for n in numbers]
        phones = [f"+2237{n:07d}" for n in numbers]
        email_field, phone_field = (
            Citizen._meta.get_field("email"),
            Citizen._meta.get_field("phone"),
        )
        _insert_generated(
            Citizen,
            "(SELECT u.id, u.email, u.email_hash, u.phone, u.phone_hash, u.i + %s AS n FROM "
            "unnest(%s::uuid[], %s::text[], %s::text[], %s::text[], %s::text[]) "
            "WITH ORDINALITY AS u(id, email, email_hash, phone, phone_hash, i)) AS g",
            {
                "id": "g.id",
                "created_at": now,
                "updated_at": now,
                "given_name": "'Bench'",
                "family_name": "'Citizen ' || n",
                "language": "CASE WHEN mod(n, 3) = 0 THEN 'fr' ELSE 'en' END",
                "email": "g.email",
                "email_hash": "g.email_hash",
                "phone": "g.phone",
                "phone_hash": "g.phone_hash",
                "notify_by_email": "true",
                "notify_by_sms": "true",
                "email_verified_at": f"CASE WHEN mod(n, 10) <> 0 THEN {now} END",
                "phone_verified_at": f"CASE WHEN mod(n, 10) < 6 THEN {now} END",
                "consented_at": now,
                "confirmed_at": now,
                "consent_version": "'bench'",
            },
            [
                first - 1,
                ids,
                [
                    crypto.encrypt(email, bound_to=email_field.binding_of(key))
                    for key, email in zip(ids, emails, strict=True)
                ],
                [crypto.keyed_hash(email, kind="email") for email in emails],
                [
                    crypto.encrypt(phone, bound_to=phone_field.binding_of(key))
                    for key, phone in zip(ids, phones, strict=True)
                ],
                [crypto.keyed_hash(phone, kind="phone") for phone in phones],
            ],
        )
    regions = "ARRAY[" + ", ".join(f"'{code}'" for code in MALI_REGIONS) + "]"
    lebanon = "ARRAY[" + ", ".join(f"'{code}'" for code in LEBANON_REGIONS) + "]"
    _insert_generated(
        Presence,
        "(SELECT id AS citizen_id, row_number() OVER (ORDER BY id) AS n "
        "FROM registrations_citizen) AS c",
        {
            "id": "gen_random_uuid()",
            "created_at": now,
            "updated_at": now,
            "citizen": "c.citizen_id",
            "kind": "CASE WHEN mod(n, 10) < 7 THEN 'residence' ELSE 'trip' END",
            "trip": "CASE WHEN mod(n, 10) < 7 THEN NULL ELSE gen_random_uuid() END",
            "country": f"CASE WHEN n <= {int(size)} THEN 'ML' ELSE 'LB' END",
            "region": (
                f"CASE WHEN n <= {int(size)} THEN ({regions})[1 + mod(n, 11)::int] "
                f"ELSE ({lebanon})[1 + mod(n, 8)::int] END"
            ),
            "city": "''",
            "start_date": "current_date - 30",
            "end_date": "CASE WHEN mod(n, 10) < 7 THEN NULL ELSE current_date + 10 END",
        },
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE registrations_citizen; ANALYZE registrations_presence")


def expected_deliveries(size: int) -> int:
    """Verified channels of the Mali citizens (the first `size` rows in email order)."""
    mali = Citizen.objects.filter(presences__country_id="ML")
    return (
        mali.filter(email_verified_at__isnull=False).count()
        + mali.filter(phone_verified_at__isnull=False).count()
    )


# --- measuring --------------------------------------------------------------------------------


def wait_for(condition: Callable[[], bool], *, timeout: float) -> float:
    started = time.perf_counter()
    while not condition():
        if time.perf_counter() - started > timeout:
            raise TimeoutError(f"not reached within {timeout:.0f} s")
        time.sleep(0.05)
    return time.perf_counter() - started


def ledger_check(alert_id: str, email_ids: list[str], sms_ids: list[str]) -> dict[str, int]:
    """Compare what the sinks received with the ledger: duplicates and missing messages."""
    received = Counter(email_ids) + Counter(sms_ids)
    duplicates = sum(count - 1 for count in received.values() if count > 1)
    sent = {
        str(delivery_id)
        for delivery_id in Delivery.objects.filter(alert_id=alert_id).values_list("id", flat=True)
    }
    return {"duplicates": duplicates, "missing": len(sent - set(received))}


def dump(result: dict[str, Any]) -> str:
    return json.dumps(result, sort_keys=False)


def republish_sends(*, event: RiskLevelChanged, sinks: Sinks) -> int:
    """Deliver the same event again, as a redelivered message would: nothing more is sent."""
    from core import events

    before = sinks.count()
    events.dispatch(event)
    time.sleep(3)
    return sinks.count() - before


# --- the naive baseline -----------------------------------------------------------------------


@shared_task(name="bench.naive_deliver")
def naive_deliver(alert_id: str, citizen_id: str, channel_name: str) -> None:
    """What a first version would do: one task per recipient, ORM row, fresh connection."""
    alert = Alert.objects.get(id=alert_id)
    citizen = Citizen.objects.get(id=citizen_id)
    contact = citizen_contacts(citizen_ids=[citizen.id])[citizen.id]
    presence = Presence.objects.filter(citizen=citizen).first()
    delivery, _ = Delivery.objects.get_or_create(
        alert=alert,
        citizen=citizen,
        channel=channel_name,
        defaults={"next_attempt_at": timezone.now(), "created_at": timezone.now()},
    )
    channel = get_channel(channel_name)
    channel.open()
    try:
        receipt = channel.send(
            AlertRenderer(alert).message(
                delivery_id=delivery.id,
                channel=channel_name,
                region_code=(presence.region_id or "") if presence else "",
                contact=contact,
            )
        )
    finally:
        channel.close()
    delivery.status, delivery.provider_id, delivery.sent_at = (
        "sent",
        receipt.provider_id,
        timezone.now(),
    )
    delivery.save()


def naive_enqueue(alert: Alert) -> int:
    count = 0
    for citizen in Citizen.objects.filter(presences__country_id="ML"):
        for channel, ready in (
            ("email", citizen.email_verified_at),
            ("sms", citizen.phone_verified_at),
        ):
            if ready:
                naive_deliver.apply_async(
                    args=(str(alert.id), str(citizen.id), channel), queue=channel
                )
                count += 1
    return count


def settings_summary() -> dict[str, Any]:
    return {"rate_limits": settings.ALERT_RATE_LIMITS, "chunk": settings.ALERT_CHUNK_SIZE}
