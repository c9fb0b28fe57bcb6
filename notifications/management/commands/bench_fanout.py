import os
import time
from typing import Any

from celery import current_app as celery_app
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from kombu.exceptions import OperationalError

from accounts.demo import seed_posts_and_staff
from accounts.models import User
from advisories.events import RegionLevelChange, RiskLevelChanged
from advisories.models import Advisory
from advisories.services import advisory_approve, advisory_draft_create, advisory_submit
from core import events
from notifications import benchmark, handlers
from notifications.models import Alert, Delivery
from regions.services import geography_load


def _publish(level: int, *, alerting: bool) -> Advisory:
    """Publish Mali at `level` everywhere, through the same services staff use."""
    if not alerting:
        events.unsubscribe(RiskLevelChanged, handlers.on_risk_level_changed)
    try:
        editor = User.objects.get(username="bamako-editor")
        draft = advisory_draft_create(
            country_code="ML",
            author=editor,
            fields={
                "country_level": level,
                "summary_en": "Benchmark advisory.",
                "summary_fr": "Conseil de test de performance.",
                "instructions_en": "Leave the country as soon as possible.",
                "instructions_fr": "Quittez le pays dès que possible.",
            },
            overrides=[],
        )
        advisory_submit(advisory=draft, submitted_by=editor)
        return advisory_approve(
            advisory=draft, approved_by=User.objects.get(username="bamako-approver")
        )
    finally:
        events.subscribe(RiskLevelChanged, handlers.on_risk_level_changed)


def _wait_for_workers(count: int) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            replies = celery_app.control.ping(timeout=1.0) or []
        except (OSError, OperationalError):
            # The broker dropped a connection the previous run left idle: ask again.
            replies = []
        if len(replies) >= count:
            return
    raise CommandError("the benchmark's workers did not start")


class Command(BaseCommand):
    help = (
        "Benchmark an alert's fan-out and hand-off on PostgreSQL and the real broker, against "
        "local sinks; prints one JSON line per size and the speed-up over a naive baseline."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--sizes", default="10000,100000", help="Registrants per run.")
        parser.add_argument("--baseline-size", type=int, default=10000, help="0 to skip.")
        # Six children keep two cores busy while they wait on the sinks; twelve (two workers)
        # spent more CPU on each message than they gained.
        parser.add_argument("--workers", type=int, default=1, help="Worker processes.")
        parser.add_argument("--concurrency", type=int, default=6, help="Children per worker.")

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql" or "bench" not in connection.settings_dict["NAME"]:
            raise CommandError("Run on a PostgreSQL database whose name contains 'bench'.")
        if settings.CELERY_BROKER_URL.split("://")[0] not in {"amqp", "redis"}:
            raise CommandError("Run with a real broker (CELERY_BROKER_URL=amqp://...).")
        geography_load(country_codes={"ML", "LB"})
        seed_posts_and_staff()
        self.workers, self.concurrency = options["workers"], options["concurrency"]
        ceilings = benchmark.sink_ceilings()
        self.stdout.write(
            benchmark.dump({"sink_ceilings_per_s": ceilings, **benchmark.settings_summary()})
        )
        ours: dict[int, dict[str, Any]] = {}
        for size in [int(size) for size in options["sizes"].split(",") if size]:
            ours[size] = self.run_ours(size, ceilings)
            self.stdout.write(benchmark.dump(ours[size]))
        baseline = options["baseline_size"]
        if baseline:
            if baseline not in ours:
                ours[baseline] = self.run_ours(baseline, ceilings)
                self.stdout.write(benchmark.dump(ours[baseline]))
            naive = self.run_naive(baseline)
            naive["speedup"] = round(naive["handoff_s"] / ours[baseline]["handoff_s"], 1)
            self.stdout.write(benchmark.dump(naive))

    def run_ours(self, size: int, ceilings: dict[str, float]) -> dict[str, Any]:
        _publish(3, alerting=False)
        benchmark.seed_register(size=size)
        expected = benchmark.expected_deliveries(size)
        with benchmark.running_sinks() as sinks:
            with benchmark.running_workers(
                sinks=sinks, processes=self.workers, concurrency=self.concurrency
            ) as workers:
                _wait_for_workers(self.workers)
                celery_app.control.purge()
                started = time.perf_counter()
                cpu_before = benchmark.cpu_use(workers, sinks)
                advisory = _publish(4, alerting=True)
                timeout = 120 + size / 100
                alert_ready = benchmark.wait_for(
                    lambda: Alert.objects.filter(advisory=advisory).exists(), timeout=timeout
                )
                alert = Alert.objects.get(advisory=advisory)
                # The fan-out commits its rows with the alert's `fanned_out_at`: watching that
                # costs the database nothing, where counting the rows would slow the insert.
                benchmark.wait_for(
                    lambda: Alert.objects.filter(id=alert.id, fanned_out_at__isnull=False).exists(),
                    timeout=timeout,
                )
                persist_s = time.perf_counter() - started
                written = Delivery.objects.filter(alert=alert).count()
                if written != expected:
                    raise CommandError(f"the fan-out wrote {written} rows, not {expected}")
                benchmark.wait_for(lambda: sinks.count() >= expected, timeout=timeout)
                handoff_s = time.perf_counter() - started
                cpu_after = benchmark.cpu_use(workers, sinks)
                event = RiskLevelChanged(
                    advisory_id=str(advisory.id),
                    country_code="ML",
                    changes=tuple(
                        RegionLevelChange(region_code=code, old_level=3, new_level=4)
                        for code in benchmark.MALI_REGIONS
                    ),
                )
                republished = benchmark.republish_sends(event=event, sinks=sinks)
            email_ids, sms_ids = sinks.collected_ids()
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
            "worker_peak_rss_mb": round(workers.peak_rss_kib / 1024, 1),
            # Of the machine's cores x hand-off seconds, what each part used.
            "cpu_s": {
                "available": round(handoff_s * (os.cpu_count() or 1), 1),
                **{name: round(cpu_after[name] - cpu_before[name], 1) for name in cpu_after},
            },
            **benchmark.ledger_check(str(alert.id), email_ids, sms_ids),
            "republish_sent": republished,
        }

    def run_naive(self, size: int) -> dict[str, Any]:
        _publish(3, alerting=False)
        benchmark.seed_register(size=size)
        advisory = _publish(4, alerting=False)
        alert = Alert.objects.create(
            kind=Alert.Kind.LEVEL_CHANGE,
            state=Alert.State.SENDING,
            country_id="ML",
            advisory=advisory,
            changes=[
                {"region_code": code, "old_level": 3, "new_level": 4}
                for code in benchmark.MALI_REGIONS
            ],
            region_codes=benchmark.MALI_REGIONS,
        )
        with benchmark.running_sinks() as sinks:
            with benchmark.running_workers(
                sinks=sinks, processes=self.workers, concurrency=self.concurrency
            ) as workers:
                _wait_for_workers(self.workers)
                celery_app.control.purge()
                started = time.perf_counter()
                expected = benchmark.naive_enqueue(alert)
                benchmark.wait_for(lambda: sinks.count() >= expected, timeout=900)
                handoff_s = time.perf_counter() - started
            email_ids, sms_ids = sinks.collected_ids()
        return {
            "run": "naive_baseline",
            "registrants": size,
            "deliveries": expected,
            "handoff_s": round(handoff_s, 2),
            "deliveries_per_s": round(expected / handoff_s, 1),
            "worker_peak_rss_mb": round(workers.peak_rss_kib / 1024, 1),
            **benchmark.ledger_check(str(alert.id), email_ids, sms_ids),
        }
