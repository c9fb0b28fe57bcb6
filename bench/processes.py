"""The benchmark's processes: the sinks and the Celery workers, each in processes of their own,
the sinks' ceilings measured with bare clients, and the CPU and memory they use."""

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
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection as Pipe
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from django.db import connection

from bench.measure import wait_for
from bench.sinks import sms_sink, smtp_sink
from core.channels.email import sendmail_pipelined

ROOT = Path(__file__).resolve().parent.parent


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


class SinkAddresses(Protocol):
    """Where the workers send: the sinks in processes of their own, or in the benchmark's."""

    @property
    def smtp_port(self) -> int: ...

    @property
    def sms_url(self) -> str: ...


@contextlib.contextmanager
def running_workers(*, sinks: SinkAddresses, processes: int, concurrency: int) -> Iterator[Workers]:
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
        "bench.naive", "--queues", "default,email,sms", "--concurrency",
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
