"""The machinery of the fault suite: a seeded register, the real pipeline (worker and beat
processes, sinks in a process of their own), and the check of the sinks' logs against the
ledger. The scenarios in test_pipeline.py inject one fault each into a run of it."""

import contextlib
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import OperationalError, connection, connections

from accounts.demo import seed_posts_and_staff
from advisories.models import Advisory
from bench import seed as bench_seed
from bench.sinks import SmsFaults, SmtpFaults
from consular.celery import app as celery_app
from notifications.models import Alert, Delivery
from notifications.sending import HANDOFF_BATCH
from regions.services import geography_load
from tests.faults.sink_process import SinkLog, serve

ROOT = Path(__file__).resolve().parents[2]
# Mali citizens seeded: 90 % with a verified email and 60 % with a verified phone make
# just over 20,000 deliveries (12,000 emails, 8,000 SMS) in every scenario.
REGISTER_SIZE = 13_400
WORKERS = 2
CONCURRENCY = 4
# The knobs the pipeline runs with in the suite (see docs/reliability.md): a lease a little
# above the task time limit, the sweeper every 5 s, rate limits off unless a scenario sets one.
LEASE_SECONDS = 45
SWEEP_SECONDS = 5
FAN_OUT_GRACE_SECONDS = 10
# Events a dead process did not dispatch are relayed after 2 s, by a relay every 5 s.
EVENT_RELAY_GRACE_SECONDS = 2
EVENT_RELAY_SECONDS = 5
MAX_ATTEMPTS = 6
# Retries wait 2-4 s, 4-8 s ... 32-64 s: the production base is 30 s, which would make the
# failing-providers scenario wait minutes for one unlucky row's fifth attempt.
RETRY_BASE_SECONDS = 4
SMS_TIMEOUT_SECONDS = 2.0
PIPELINE_ENV = {
    "ALERT_LEASE_SECONDS": str(LEASE_SECONDS),
    "ALERT_SWEEP_SECONDS": str(SWEEP_SECONDS),
    "ALERT_FAN_OUT_GRACE_SECONDS": str(FAN_OUT_GRACE_SECONDS),
    "EVENT_RELAY_GRACE_SECONDS": str(EVENT_RELAY_GRACE_SECONDS),
    "EVENT_RELAY_SECONDS": str(EVENT_RELAY_SECONDS),
    "ALERT_MAX_ATTEMPTS": str(MAX_ATTEMPTS),
    "ALERT_RETRY_BASE_SECONDS": str(RETRY_BASE_SECONDS),
    "ALERT_CHUNK_SIZE": "200",
    "ALERT_RATE_EMAIL": "1000000",
    "ALERT_RATE_SMS": "1000000",
    "CELERY_TASK_TIME_LIMIT": "40",
    "CELERY_TASK_SOFT_TIME_LIMIT": "38",
    "SMS_BACKEND": "core.sms.backends.http.SmsBackend",
    "SMS_HTTP_TIMEOUT": str(SMS_TIMEOUT_SECONDS),
    "EMAIL_TIMEOUT": "10",
    "LOG_LEVEL": "WARNING",
}
OPEN = {Delivery.Status.PENDING, Delivery.Status.SENDING}


# --- sinks in a process of their own ---------------------------------------------------------


@dataclass
class Sinks:
    smtp_port: int
    sms_url: str
    accepted: Any
    stop: Any
    logs_in: Any
    process: Any

    def count(self) -> int:
        return int(self.accepted.value)

    def collect(self) -> SinkLog:
        self.stop.set()
        log: SinkLog = self.logs_in.recv()
        self.process.join(timeout=30)
        return log


@contextlib.contextmanager
def running_sinks(
    *, smtp_faults: SmtpFaults | None = None, sms_faults: SmsFaults | None = None
) -> Iterator[Sinks]:
    # Spawned, not forked: a forked child would reset the broker connection it inherits.
    context = multiprocessing.get_context("spawn")
    ports, stop, accepted = context.Queue(), context.Event(), context.Value("l", 0)
    logs_in, logs_out = context.Pipe(duplex=False)
    process = context.Process(
        target=serve,
        args=(
            smtp_faults or SmtpFaults(),
            sms_faults or SmsFaults(),
            ports,
            accepted,
            stop,
            logs_out,
        ),
    )
    process.start()
    smtp_port, sms_url = ports.get(timeout=30)
    try:
        yield Sinks(smtp_port, sms_url, accepted, stop, logs_in, process)
    finally:
        if process.is_alive():
            stop.set()
            process.join(timeout=10)
            process.kill()


# --- worker and beat processes ---------------------------------------------------------------


@dataclass
class Pipeline:
    """Worker processes and one beat, each in a session of its own so a fault can kill one
    worker with all its children and nothing else."""

    env: dict[str, str]
    logs: Path
    workers: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    beat: subprocess.Popen[bytes] | None = None

    def _spawn(self, name: str, arguments: list[str]) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{name}.log").open("ab")
        return subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "consular", *arguments],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start_worker(self, name: str, *, include: str = "") -> None:
        arguments = [
            "worker", "--queues", "default,email,sms", "--concurrency", str(CONCURRENCY),
            "--without-gossip", "--without-mingle", "--loglevel", "WARNING",
            "--hostname", f"{name}@%h",
        ]  # fmt: skip
        if include:
            arguments += ["--include", include]
        self.workers[name] = self._spawn(name, arguments)

    def start_beat(self) -> None:
        schedule = self.logs / "beat-schedule"
        self.beat = self._spawn(
            "beat", ["beat", "--schedule", str(schedule), "--loglevel", "WARNING"]
        )

    def kill_worker(self, name: str) -> None:
        """kill -9 of the worker and its pool children at once, as the OOM killer or a lost
        machine would: no task gets to finish, nothing is acknowledged."""
        process = self.workers.pop(name)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)

    def wait_ready(self, count: int, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        with celery_app.connection_for_write() as broker:
            while time.monotonic() < deadline:
                if len(celery_app.control.ping(timeout=1.0, connection=broker) or []) >= count:
                    return
        raise TimeoutError("the workers did not start")

    def log_text(self) -> str:
        return "\n".join(path.read_text(errors="replace") for path in self.logs.glob("*.log"))

    def stop(self) -> None:
        processes = [*self.workers.values(), *([self.beat] if self.beat else [])]
        for process in processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=30)
        self.workers.clear()
        self.beat = None


@contextlib.contextmanager
def running_pipeline(sinks: Sinks, **overrides: str) -> Iterator[Pipeline]:
    db = connection.settings_dict
    env = {
        **os.environ,
        **PIPELINE_ENV,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "EMAIL_URL": f"smtp://127.0.0.1:{sinks.smtp_port}",
        "SMS_HTTP_URL": sinks.sms_url,
        **overrides,
    }
    with tempfile.TemporaryDirectory(prefix="faults-") as logs:
        pipeline = Pipeline(env=env, logs=Path(logs))
        try:
            yield pipeline
        finally:
            pipeline.stop()


# --- a run and its check ---------------------------------------------------------------------


def seed() -> int:
    """The register and the staff who publish; returns how many deliveries an alert makes."""
    geography_load(country_codes={"ML", "LB"})
    seed_posts_and_staff()
    bench_seed.publish_mali(3, alerting=False)
    bench_seed.seed_register(size=REGISTER_SIZE)
    return bench_seed.expected_deliveries(REGISTER_SIZE)


def publish_level_change() -> Advisory:
    """Mali to level 4 everywhere, through the advisory services: the alert follows."""
    return bench_seed.publish_mali(4, alerting=True)


def publish_level_change_and_die(pipeline: Pipeline) -> int:
    """`publish_level_change` in a process of its own, killed the instant the publication
    commits (tests/faults/publish_and_die.py); returns the process's exit status."""
    died = subprocess.run(
        [sys.executable, "-m", "tests.faults.publish_and_die"],
        cwd=ROOT,
        env=pipeline.env,
        capture_output=True,
        timeout=180,
        check=False,
    )
    return died.returncode


def db_query[T](query: Callable[[], T]) -> T:
    """Run a query from the test process, reconnecting once if a fault cut the connection."""
    try:
        return query()
    except OperationalError:
        connections.close_all()
        return query()


def wait_until(condition: Callable[[], bool], *, timeout: float, what: str) -> float:
    started = time.monotonic()
    while True:
        try:
            if condition():
                return time.monotonic() - started
        except OperationalError:
            connections.close_all()
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"{what}: not within {timeout:.0f} s")
        time.sleep(0.25)


def in_flight_ids(alert: Alert) -> set[int]:
    """Rows handed to a sending process whose answer is not recorded: what a fault can leave
    ambiguous."""
    return set(
        db_query(
            lambda: list(
                Delivery.objects.filter(
                    alert=alert, status=Delivery.Status.SENDING, handoff_at__isnull=False
                ).values_list("id", flat=True)
            )
        )
    )


def alert_of(advisory: Advisory, *, timeout: float = 60) -> Alert:
    wait_until(
        lambda: Alert.objects.filter(advisory=advisory).exists(), timeout=timeout, what="alert"
    )
    return Alert.objects.get(advisory=advisory)


def settled(alert_id: Any, expected: int) -> bool:
    rows = Delivery.objects.filter(alert_id=alert_id)
    return rows.count() >= expected and not rows.filter(status__in=OPEN).exists()


@dataclass
class Report:
    scenario: str
    deliveries: int
    lost: int
    duplicates: int
    ambiguous: int
    ambiguous_accepted: int
    in_flight: int
    failed: int
    recovery_s: float
    statuses: dict[str, int]

    def line(self) -> str:
        return (
            f"faults {self.scenario}: deliveries={self.deliveries} lost={self.lost} "
            f"duplicates={self.duplicates} ambiguous={self.ambiguous} "
            f"(accepted by the provider: {self.ambiguous_accepted}) "
            f"in_flight={self.in_flight} failed={self.failed} recovery_s={self.recovery_s:.1f}"
        )


PERMANENT_EMAIL = {554}


def check(
    scenario: str,
    alert: Alert,
    log: SinkLog,
    *,
    expected: int,
    in_flight: int,
    recovery_s: float,
    expected_failures: set[int] = frozenset(),  # type: ignore[assignment]
) -> Report:
    """The sinks' logs against the ledger.

    lost: a row not final, a row recorded sent that no provider accepted, a row accepted
    nowhere that is neither ambiguous nor failed for a reason the provider gave (a permanent
    refusal, or attempts exhausted), or a message accepted for an id the ledger does not hold.
    duplicates: messages accepted more than once for a row that is not marked ambiguous."""
    rows = {
        row_id: (status, attempts)
        for row_id, status, attempts in Delivery.objects.filter(alert=alert).values_list(
            "id", "status", "attempts"
        )
    }
    accepted = Counter(log.email_accepted) + Counter(log.sms_accepted)
    permanently_refused = {
        ref for ref, code, _ in log.email_transactions if code in PERMANENT_EMAIL
    }
    permanently_refused |= {
        ref for ref, code, _ in log.sms_transactions if 400 <= code < 500 and code != 429
    }
    lost = int(len(rows) < expected)
    lost += sum(1 for key in accepted if not key.isdigit() or int(key) not in rows)
    duplicates = ambiguous_accepted = 0
    Status = Delivery.Status
    for row_id, (status, attempts) in rows.items():
        times = accepted.get(str(row_id), 0)
        if status in OPEN:
            lost += 1
        elif status in (Status.SENT, Status.DELIVERED):
            lost += times == 0
            duplicates += max(times - 1, 0)
        elif status == Status.FAILED:
            justified = (
                str(row_id) in permanently_refused
                or attempts >= MAX_ATTEMPTS
                or row_id in expected_failures
            )
            lost += not justified or times > 0
        elif status == Status.AMBIGUOUS:
            ambiguous_accepted += times > 0
        else:
            lost += 1
    statuses = Counter(status for status, _ in rows.values())
    report = Report(
        scenario=scenario,
        deliveries=len(rows),
        lost=int(lost),
        duplicates=duplicates,
        ambiguous=statuses.get(Status.AMBIGUOUS, 0),
        ambiguous_accepted=ambiguous_accepted,
        in_flight=in_flight,
        failed=statuses.get(Status.FAILED, 0),
        recovery_s=recovery_s,
        statuses=dict(statuses),
    )
    print(report.line())
    return report


def in_flight_bound() -> int:
    """At most one hand-off batch per running task is without a recorded answer."""
    return WORKERS * CONCURRENCY * HANDOFF_BATCH


def terminate_other_backends() -> int:
    """pg_terminate_backend on every other connection to the test database: the workers'."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        (count,) = cursor.fetchone()
    return int(count)
