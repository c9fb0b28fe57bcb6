"""The fan-out benchmark behind `make bench` (`python -m bench`).

It seeds a register in SQL, publishes a Mali level change, and times the real path (event,
fan-out task, send tasks on real worker processes) against local sinks running in their own
processes, whose ceilings it measures in the same run with a bare client. It also runs a naive
baseline: one task per recipient that creates its row with the ORM and sends on a fresh
connection. It prints one JSON line per size and the speed-up over the baseline."""

import argparse
import contextlib
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from celery import current_app as celery_app
from django.conf import settings
from kombu.exceptions import OperationalError

from accounts.demo import seed_posts_and_staff
from advisories.events import RegionLevelChange, RiskLevelChanged
from bench import measure, naive, processes, seed
from bench.measure import BenchmarkError
from core import events
from notifications.models import Alert, Delivery
from regions.services import geography_load


def wait_for_workers(count: int) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            replies = celery_app.control.ping(timeout=1.0) or []
        except (OSError, OperationalError):
            # The broker dropped a connection the previous run left idle: ask again.
            replies = []
        if len(replies) >= count:
            return
    raise BenchmarkError("the benchmark's workers did not start")


@dataclass
class _Run:
    sinks: processes.Sinks
    workers: processes.Workers
    # The delivery ids each sink received, read once the workers have stopped.
    email_ids: list[str] = field(default_factory=list)
    sms_ids: list[str] = field(default_factory=list)


@contextlib.contextmanager
def _sinks_and_workers(*, workers: int, concurrency: int) -> Iterator[_Run]:
    """The sinks, and workers sending to them that answer, with the queues emptied of what an
    earlier run left. On leaving, the workers stop before the sinks hand over the ids they
    received, so that no message arrives after they are counted."""
    with processes.running_sinks() as sinks:
        with processes.running_workers(
            sinks=sinks, processes=workers, concurrency=concurrency
        ) as running:
            wait_for_workers(workers)
            celery_app.control.purge()
            run = _Run(sinks=sinks, workers=running)
            yield run
        run.email_ids, run.sms_ids = sinks.collected_ids()


def _arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=(
            "Benchmark an alert's fan-out and hand-off on PostgreSQL and the real broker, "
            "against local sinks; prints one JSON line per size and the speed-up over a naive "
            "baseline."
        ),
    )
    parser.add_argument("--sizes", default="10000,100000", help="Registrants per run.")
    parser.add_argument("--baseline-size", type=int, default=10000, help="0 to skip.")
    # Six children keep two cores busy while they wait on the sinks; twelve (two workers)
    # spent more CPU on each message than they gained.
    parser.add_argument("--workers", type=int, default=1, help="Worker processes.")
    parser.add_argument("--concurrency", type=int, default=6, help="Children per worker.")
    return parser.parse_args(argv)


def main(argv: Sequence[str]) -> None:
    options = _arguments(argv)
    measure.require_bench_database()
    if settings.CELERY_BROKER_URL.split("://")[0] not in {"amqp", "redis"}:
        raise BenchmarkError("Run with a real broker (CELERY_BROKER_URL=amqp://...).")
    geography_load(country_codes={"ML", "LB"})
    seed_posts_and_staff()
    sizing = {"workers": options.workers, "concurrency": options.concurrency}
    ceilings = processes.sink_ceilings()
    print(measure.dump({"sink_ceilings_per_s": ceilings, **measure.settings_summary()}))
    ours: dict[int, dict[str, Any]] = {}
    for size in [int(size) for size in options.sizes.split(",") if size]:
        ours[size] = run_ours(size, ceilings, **sizing)
        print(measure.dump(ours[size]))
    baseline = options.baseline_size
    if baseline:
        if baseline not in ours:
            ours[baseline] = run_ours(baseline, ceilings, **sizing)
            print(measure.dump(ours[baseline]))
        result = run_naive(baseline, **sizing)
        result["speedup"] = round(result["handoff_s"] / ours[baseline]["handoff_s"], 1)
        print(measure.dump(result))


def republish_sends(*, event: RiskLevelChanged, sinks: processes.Sinks) -> int:
    """Deliver the same event again, as a redelivered message would: nothing more is sent."""
    before = sinks.count()
    events.dispatch(event)
    time.sleep(3)
    return sinks.count() - before


def run_ours(
    size: int, ceilings: dict[str, float], *, workers: int, concurrency: int
) -> dict[str, Any]:
    seed.publish_mali(3, alerting=False)
    seed.seed_register(size=size)
    expected = seed.expected_deliveries(size)
    with _sinks_and_workers(workers=workers, concurrency=concurrency) as run:
        started = time.perf_counter()
        cpu_before = processes.cpu_use(run.workers, run.sinks)
        advisory = seed.publish_mali(4, alerting=True)
        timeout = 120 + size / 100
        alert_ready = measure.wait_for(
            lambda: Alert.objects.filter(advisory=advisory).exists(), timeout=timeout
        )
        alert = Alert.objects.get(advisory=advisory)
        # The fan-out commits its rows with the alert's `fanned_out_at`: watching that
        # costs the database nothing, where counting the rows would slow the insert.
        measure.wait_for(
            lambda: Alert.objects.filter(id=alert.id, fanned_out_at__isnull=False).exists(),
            timeout=timeout,
        )
        persist_s = time.perf_counter() - started
        written = Delivery.objects.filter(alert=alert).count()
        if written != expected:
            raise BenchmarkError(f"the fan-out wrote {written} rows, not {expected}")
        measure.wait_for(lambda: run.sinks.count() >= expected, timeout=timeout)
        handoff_s = time.perf_counter() - started
        cpu_after = processes.cpu_use(run.workers, run.sinks)
        event = RiskLevelChanged(
            advisory_id=str(advisory.id),
            country_code="ML",
            changes=tuple(
                RegionLevelChange(region_code=code, old_level=3, new_level=4)
                for code in seed.MALI_REGIONS
            ),
        )
        republished = republish_sends(event=event, sinks=run.sinks)
    email_count = Delivery.objects.filter(alert=alert, channel="email").count()
    sms_count = expected - email_count
    sink_bound_s = max(email_count / ceilings["email"], sms_count / ceilings["sms"])
    return {
        "run": "ours",
        "registrants": size,
        "deliveries": expected,
        "alert_created_s": round(alert_ready, 2),
        "persist_s": round(persist_s, 2),
        "handoff_s": round(handoff_s, 2),
        "deliveries_per_s": round(expected / handoff_s, 1),
        "sink_ceilings_per_s": ceilings,
        "ratio_to_sink_ceiling": round(sink_bound_s / handoff_s, 2),
        "worker_peak_rss_mb": round(run.workers.peak_rss_kib / 1024, 1),
        # Of the machine's cores x hand-off seconds, what each part used.
        "cpu_s": {
            "available": round(handoff_s * (os.cpu_count() or 1), 1),
            **{name: round(cpu_after[name] - cpu_before[name], 1) for name in cpu_after},
        },
        **measure.ledger_check(str(alert.id), run.email_ids, run.sms_ids),
        "republish_sent": republished,
    }


def run_naive(size: int, *, workers: int, concurrency: int) -> dict[str, Any]:
    seed.publish_mali(3, alerting=False)
    seed.seed_register(size=size)
    advisory = seed.publish_mali(4, alerting=False)
    alert = Alert.objects.create(
        kind=Alert.Kind.LEVEL_CHANGE,
        state=Alert.State.SENDING,
        country_id="ML",
        advisory=advisory,
        changes=[
            {"region_code": code, "old_level": 3, "new_level": 4} for code in seed.MALI_REGIONS
        ],
        region_codes=seed.MALI_REGIONS,
    )
    with _sinks_and_workers(workers=workers, concurrency=concurrency) as run:
        started = time.perf_counter()
        expected = naive.naive_enqueue(alert)
        measure.wait_for(lambda: run.sinks.count() >= expected, timeout=900)
        handoff_s = time.perf_counter() - started
    return {
        "run": "naive_baseline",
        "registrants": size,
        "deliveries": expected,
        "handoff_s": round(handoff_s, 2),
        "deliveries_per_s": round(expected / handoff_s, 1),
        "worker_peak_rss_mb": round(run.workers.peak_rss_kib / 1024, 1),
        **measure.ledger_check(str(alert.id), run.email_ids, run.sms_ids),
    }
