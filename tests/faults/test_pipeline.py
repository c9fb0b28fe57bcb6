"""Scenarios 1-7 and 9 of the fault suite: a 20,000-delivery alert on the real pipeline, one fault
injected into each run, then the sinks' logs checked against the ledger (harness.check).

Run with `make test-faults`: the suite's own PostgreSQL, RabbitMQ and Redis are the ones
restarted and killed here, never the machine's shared services."""

import signal
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from advisories.models import Advisory
from bench.sinks import SmsFaults, SmtpFaults
from consular.celery import app as celery_app
from core.crypto import rows_update
from core.models import OutboxEvent
from notifications.models import Alert, Delivery
from notifications.sending import HANDOFF_BATCH
from registrations.models import Citizen
from tests.faults import harness, services

pytestmark = [
    pytest.mark.faults,
    pytest.mark.postgres,
    pytest.mark.broker,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
]

# Every row final within this long after the fault ends: a lease to expire, a sweep to
# find it, and the rest of the hand-off. docs/reliability.md states the same bound.
RECOVERY_BOUND_S = harness.LEASE_SECONDS + 2 * harness.SWEEP_SECONDS + 90


@dataclass
class Run:
    pipeline: harness.Pipeline
    sinks: harness.Sinks
    expected: int
    alert: Alert | None = None
    fault_ended_at: float = 0.0
    in_flight: set[int] = field(default_factory=set)
    log_text: str = ""

    def publish(self) -> Alert:
        self.alert = harness.alert_of(harness.publish_level_change())
        return self.alert

    def wait_accepted(self, share: float) -> None:
        target = int(self.expected * share)
        harness.wait_until(
            lambda: self.sinks.count() >= target, timeout=600, what=f"{target} messages accepted"
        )


def run_scenario(
    name: str,
    inject: Callable[[Run], None],
    *,
    smtp_faults: SmtpFaults | None = None,
    sms_faults: SmsFaults | None = None,
    include: str = "",
    settle_timeout: float = 600,
    **env: str,
) -> tuple[harness.Report, harness.SinkLog, Run]:
    expected = harness.seed()
    with harness.running_sinks(smtp_faults=smtp_faults, sms_faults=sms_faults) as sinks:
        # A fresh connection: a previous scenario may have restarted the broker under the
        # pooled one.
        with celery_app.connection_for_write() as broker:
            celery_app.control.purge(connection=broker)
        with harness.running_pipeline(sinks, **env) as pipeline:
            for n in range(harness.WORKERS):
                pipeline.start_worker(f"w{n}", include=include)
            pipeline.start_beat()
            pipeline.wait_ready(harness.WORKERS)
            run = Run(pipeline=pipeline, sinks=sinks, expected=expected)
            inject(run)
            assert run.alert is not None
            alert_id = run.alert.id
            harness.wait_until(
                lambda: harness.settled(alert_id, expected),
                timeout=settle_timeout,
                what="every row final",
            )
            recovery_s = time.monotonic() - run.fault_ended_at
            run.log_text = pipeline.log_text()
        log = sinks.collect()
    report = harness.check(
        name, run.alert, log, expected=expected, in_flight=len(run.in_flight), recovery_s=recovery_s
    )
    return report, log, run


def assert_exactly_once(report: harness.Report) -> None:
    assert report.lost == 0
    assert report.duplicates == 0
    assert report.ambiguous <= report.in_flight
    assert report.recovery_s <= RECOVERY_BOUND_S


def test_worker_killed_mid_handoff_loses_nothing_and_sends_nothing_twice():
    def kill_one_worker(run: Run) -> None:
        alert = run.publish()
        run.wait_accepted(0.5)
        run.pipeline.kill_worker("w0")
        run.fault_ended_at = time.monotonic()
        # What the dead worker held stays `sending` until its lease expires.
        run.in_flight = harness.in_flight_ids(alert)
        run.pipeline.start_worker("w0")

    report, _, _ = run_scenario("1-worker-kill-9", kill_one_worker)

    assert_exactly_once(report)
    assert report.statuses.get("failed", 0) == 0


POISON_ADDRESS = "poisoned@example.org"


def test_a_poisoned_delivery_ends_without_blocking_the_others():
    poisoned: dict[str, int] = {}

    def poison(run: Run) -> None:
        # A citizen in the middle of the email hand-off order.
        citizen = Citizen.objects.filter(
            email_verified_at__isnull=False, presences__country_id="ML"
        )
        victim = citizen.order_by("id")[citizen.count() // 2]
        rows_update(Citizen.objects.filter(id=victim.id), email=POISON_ADDRESS)
        alert = run.publish()
        harness.wait_until(
            lambda: Delivery.objects.filter(alert=alert, citizen=victim, channel="email").exists(),
            timeout=120,
            what="the poisoned row",
        )
        poisoned["id"] = Delivery.objects.get(alert=alert, citizen=victim, channel="email").id
        harness.wait_until(
            lambda: (
                Delivery.objects.filter(
                    id=poisoned["id"], status="sending", handoff_at__isnull=False
                ).exists()
                or Delivery.objects.filter(id=poisoned["id"])
                .exclude(status__in=harness.OPEN)
                .exists()
            ),
            timeout=300,
            what="the poisoned row handed off",
        )
        time.sleep(2)
        stamp = Delivery.objects.get(id=poisoned["id"]).handoff_at
        run.fault_ended_at = time.monotonic()
        run.in_flight = set(
            Delivery.objects.filter(alert=alert, status="sending", handoff_at=stamp).values_list(
                "id", flat=True
            )
        )

    report, log, _ = run_scenario(
        "2-poisoned-delivery",
        poison,
        include="tests.faults.poison",
        FAULTS_POISON_ADDRESS=POISON_ADDRESS,
    )

    row = Delivery.objects.get(id=poisoned["id"])
    assert row.status in {Delivery.Status.FAILED, Delivery.Status.AMBIGUOUS}
    assert row.attempts <= harness.MAX_ATTEMPTS
    assert str(row.id) not in log.email_accepted
    assert_exactly_once(report)
    # Only the hand-off batch the child died in is left ambiguous.
    assert report.ambiguous <= HANDOFF_BATCH


def test_broker_stopped_and_started_mid_run():
    def restart_broker(run: Run) -> None:
        alert = run.publish()
        run.wait_accepted(0.4)
        services.rabbitmq_stop_app()
        run.in_flight = harness.in_flight_ids(alert)
        time.sleep(15)
        services.rabbitmq_start_app()
        run.fault_ended_at = time.monotonic()

    report, _, _ = run_scenario("3-rabbitmq-stop-start", restart_broker)

    assert_exactly_once(report)


def test_database_restarted_and_connections_terminated_mid_run():
    def break_the_database(run: Run) -> None:
        alert = run.publish()
        run.wait_accepted(0.3)
        run.in_flight |= harness.in_flight_ids(alert)
        harness.terminate_other_backends()
        run.in_flight |= harness.in_flight_ids(alert)
        run.wait_accepted(0.6)
        run.in_flight |= harness.in_flight_ids(alert)
        services.postgres_restart()
        run.fault_ended_at = time.monotonic()
        # What the cut connections left in flight stays `sending` until the lease expires.
        run.in_flight |= harness.in_flight_ids(alert)

    report, _, _ = run_scenario("4-postgres-restart", break_the_database)

    assert_exactly_once(report)


def test_alert_committed_but_never_enqueued_is_fanned_out_by_the_sweeper():
    def crash_before_enqueue(run: Run) -> None:
        # The broker is down at the instant the fan-out is enqueued: the alert is committed,
        # no message exists, as if the publishing process had died right after its commit.
        services.rabbitmq_stop_app()
        harness.publish_level_change()
        run.alert = Alert.objects.get(state=Alert.State.FANNING_OUT)
        # The level change's handler failed after the alert's commit: its event waits for the
        # relay, which finds the alert made and enqueues nothing.
        assert OutboxEvent.objects.filter(
            dispatched_at__isnull=True, last_error__contains="OperationalError"
        ).exists()
        services.rabbitmq_start_app()
        run.fault_ended_at = time.monotonic()

    report, _, _ = run_scenario("5-crash-before-enqueue", crash_before_enqueue)

    assert_exactly_once(report)
    assert report.ambiguous == 0


# The alert of a level change whose publisher died at the commit: the relay's grace, at most
# one relay interval, and a few seconds for the relay task and the alert's own commit.
RELAY_BOUND_S = harness.EVENT_RELAY_GRACE_SECONDS + harness.EVENT_RELAY_SECONDS + 3


def test_level_change_whose_publisher_died_at_commit_is_relayed_and_alerts_everyone_once():
    timing: dict[str, float] = {}

    def crash_after_commit(run: Run) -> None:
        status = harness.publish_level_change_and_die(run.pipeline)
        run.fault_ended_at = time.monotonic()
        assert status == -signal.SIGKILL
        # Committed, never dispatched: no alert, only the event's row.
        advisory = Advisory.objects.get(status=Advisory.Status.PUBLISHED)
        assert advisory.country_level == 4
        assert not Alert.objects.filter(advisory=advisory).exists()
        event = OutboxEvent.objects.get(
            name="advisories.risk_level_changed", payload__advisory_id=str(advisory.id)
        )
        assert (event.dispatched_at, event.attempts) == (None, 0)
        run.alert = harness.alert_of(advisory, timeout=60)
        timing["alert_s"] = time.monotonic() - run.fault_ended_at

    report, _, run = run_scenario("9-crash-after-commit", crash_after_commit)

    assert_exactly_once(report)
    assert report.ambiguous == 0
    assert timing["alert_s"] <= RELAY_BOUND_S
    assert run.alert is not None
    assert Alert.objects.filter(advisory_id=run.alert.advisory_id).count() == 1
    event = OutboxEvent.objects.get(payload__advisory_id=str(run.alert.advisory_id))
    assert event.dispatched_at is not None
    assert event.attempts == 1
    print(
        f"faults 9-crash-after-commit: alert created {timing['alert_s']:.1f} s after the "
        f"publisher died (bound {RELAY_BOUND_S} s)"
    )


RATE_EMAIL, RATE_SMS = 300, 150
# The worst a row can meet: every retry's longest backoff, a sweep to pick it up and a
# provider time-out per attempt; on top, the whole hand-off at the rate limits (the slower
# channel), and the lease-and-sweeps allowance of the other scenarios for a slow machine.
WORST_RETRIES_S = sum(
    harness.RETRY_BASE_SECONDS * 2**attempt + harness.SWEEP_SECONDS + harness.SMS_TIMEOUT_SECONDS
    for attempt in range(harness.MAX_ATTEMPTS - 1)
)
PROVIDERS_RECOVERY_BOUND_S = (
    WORST_RETRIES_S + max(12_000 / RATE_EMAIL, 8_000 / RATE_SMS) + RECOVERY_BOUND_S
)


def _bursts(transactions: list[tuple[str, int, float]]) -> int:
    """The most requests the provider saw in one second."""
    return max(Counter(int(at) for _, _, at in transactions).values())


def test_failing_providers_retry_with_backoff_within_the_rate_limit():
    def publish(run: Run) -> None:
        run.publish()
        run.fault_ended_at = time.monotonic()

    report, log, _ = run_scenario(
        "6-providers-failing",
        publish,
        smtp_faults=SmtpFaults(temporary=0.035, permanent=0.015),
        sms_faults=SmsFaults(
            throttled=0.03, error=0.02, slow=0.01, slow_seconds=harness.SMS_TIMEOUT_SECONDS + 1
        ),
        settle_timeout=900,
        ALERT_RATE_EMAIL=str(RATE_EMAIL),
        ALERT_RATE_SMS=str(RATE_SMS),
    )

    assert report.lost == 0
    assert report.duplicates == 0
    assert report.ambiguous == 0
    assert report.recovery_s <= PROVIDERS_RECOVERY_BOUND_S
    # Every failed row was refused for good by the provider; every transient one got through.
    refused = {ref for ref, code, _ in log.email_transactions if code == 554}
    assert report.failed == len(refused)
    retried = {ref for ref, code, _ in log.sms_transactions if code in {429, 500}}
    assert retried
    assert retried <= set(log.sms_accepted)
    # No second above the configured rate (plus the requests a second boundary can split:
    # one per pool child).
    slack = harness.WORKERS * harness.CONCURRENCY
    assert _bursts(log.email_transactions) <= RATE_EMAIL + slack
    assert _bursts(log.sms_transactions) <= RATE_SMS + slack
    report_rate = (
        f"faults 6-providers-failing: email peak {_bursts(log.email_transactions)}/s "
        f"(limit {RATE_EMAIL}), sms peak {_bursts(log.sms_transactions)}/s (limit {RATE_SMS})"
    )
    print(report_rate)


def test_redis_down_sending_goes_on_with_the_rate_limit_open():
    outage: dict[str, float] = {}

    def kill_redis(run: Run) -> None:
        run.publish()
        run.wait_accepted(0.3)
        before = run.sinks.count()
        services.redis_kill()
        outage["start"] = time.time()
        time.sleep(15)
        outage["sent"] = run.sinks.count() - before
        services.redis_start()
        outage["end"] = time.time()
        run.fault_ended_at = time.monotonic()

    report, log, run = run_scenario(
        "7-redis-down", kill_redis, ALERT_RATE_EMAIL=str(RATE_EMAIL), ALERT_RATE_SMS=str(RATE_SMS)
    )

    assert_exactly_once(report)
    assert report.ambiguous == 0
    # The limiter fails open for alerts: sending went on while the cache was gone...
    assert outage["sent"] > 0
    assert "rate limiter: cache unreachable, allowing the call" in run.log_text
    # ...and the limit holds again once it is back.
    after = [entry for entry in log.email_transactions if entry[2] > outage["end"] + 1]
    if after:
        assert _bursts(after) <= RATE_EMAIL + harness.WORKERS * harness.CONCURRENCY
