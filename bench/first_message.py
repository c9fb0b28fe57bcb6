"""From an approval to the first message, behind `make bench` (`python -m bench first-message`).

Publishes Mali's advisory again and again through the services an approver uses, each version
moving one region's level (a tenth of the register is told), on a seeded register, with a
worker sending to the SMTP and SMS sinks. For each publication it takes the time from the
approval's commit to the first message a sink accepted, and where the time went on the way
(the alert written by the event's handler, the fan-out's start, the send tasks all queued,
the first row claimed by a send task). Each
publication waits for the previous one's messages to be all accepted, so no queue is measured.
The sinks run in this process: their own clocks say when each message arrived."""

import argparse
import contextlib
import statistics
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from celery import current_app as celery_app
from django.db import transaction
from django.db.models import Min

from accounts.demo import seed_posts_and_staff
from accounts.models import User
from advisories.models import Advisory
from advisories.services import (
    OverrideInput,
    advisory_approve,
    advisory_draft_create,
    advisory_submit,
)
from bench import measure, processes, seed
from bench.fanout import BenchmarkError, wait_for_workers
from bench.sinks import SmsSink, SmtpSink, sms_sink, smtp_sink
from notifications.models import Alert, Delivery
from regions.services import geography_load

# The region whose level each publication moves, and the levels it moves between.
REGION = "ML-1"
LEVELS = (4, 3)


@dataclass(frozen=True)
class _Addresses:
    smtp_port: int
    sms_url: str


@dataclass
class _Sinks:
    smtp: SmtpSink
    sms: SmsSink

    def mark(self) -> tuple[int, int]:
        return len(self.smtp.transactions), len(self.sms.transactions)

    def accepted_since(self, mark: tuple[int, int]) -> list[float]:
        """When each message since `mark` was accepted (a sink's own clock)."""
        with self.smtp.lock, self.sms.lock:
            email = self.smtp.transactions[mark[0] :]
            sms = self.sms.transactions[mark[1] :]
        accepted = [at for _, code, at in email if code == 250]
        return accepted + [at for _, code, at in sms if code == 201]


@contextlib.contextmanager
def _sinks() -> Iterator[_Sinks]:
    with smtp_sink(keep_content=False) as smtp, sms_sink() as sms:
        yield _Sinks(smtp, sms)


def _percentile(values: Sequence[float], share: float) -> float:
    """Nearest rank: with 20 values, the 99th percentile is the largest."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]


def _publish_once(
    *, level: int, editor: User, approver: User, sinks: _Sinks, timeout: float
) -> dict[str, float]:
    overrides = [OverrideInput(region_code=REGION, level=level)] if level != LEVELS[1] else []
    draft = advisory_draft_create(
        country_code="ML", author=editor, fields={"country_level": LEVELS[1]}, overrides=overrides
    )
    advisory_submit(advisory=draft, submitted_by=editor)
    mark = sinks.mark()
    committed: list[float] = []
    with transaction.atomic():
        # Registered first, so it runs first of the commit's callbacks: the commit's time.
        transaction.on_commit(lambda: committed.append(time.time()))
        advisory: Advisory = advisory_approve(
            advisory=draft, approved_by=approver, confirm_reach=True
        )
    alert_query = Alert.objects.filter(advisory=advisory)
    queued = alert_query.filter(enqueued_at__isnull=False)
    measure.wait_for(queued.exists, timeout=timeout)
    alert = alert_query.get()
    if not alert.messages:
        raise BenchmarkError("a publication told nobody: the register is empty?")
    measure.wait_for(lambda: len(sinks.accepted_since(mark)) >= alert.messages, timeout=timeout)
    start = committed[0]
    first_claim = Delivery.objects.filter(alert=alert).aggregate(at=Min("handoff_at"))["at"]
    if not (alert.fanned_out_at and alert.enqueued_at and first_claim):
        raise BenchmarkError("an alert was sent without its fan-out and hand-off stamps")
    return {
        "alert_created_s": alert.created_at.timestamp() - start,
        "fan_out_started_s": alert.fanned_out_at.timestamp() - start,
        "sends_queued_s": alert.enqueued_at.timestamp() - start,
        "first_claimed_s": first_claim.timestamp() - start,
        "first_message_s": min(sinks.accepted_since(mark)) - start,
        "messages": alert.messages,
    }


def _arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench first-message",
        description="Time from an approval's commit to the first message a sink accepts.",
    )
    parser.add_argument("--publications", type=int, default=20)
    parser.add_argument("--registrants", type=int, default=10000, help="Seeded in Mali.")
    parser.add_argument("--workers", type=int, default=1, help="Worker processes.")
    parser.add_argument("--concurrency", type=int, default=6, help="Children per worker.")
    return parser.parse_args(argv)


def main(argv: Sequence[str]) -> None:
    options = _arguments(argv)
    measure.require_bench_database()
    geography_load(country_codes={"ML", "LB"})
    seed_posts_and_staff()
    seed.publish_mali(LEVELS[1], alerting=False)
    seed.seed_register(size=options.registrants)
    editor = User.objects.get(username="bamako-editor")
    approver = User.objects.get(username="bamako-approver")
    runs: list[dict[str, float]] = []
    with _sinks() as sinks:
        addresses = _Addresses(smtp_port=sinks.smtp.port, sms_url=sinks.sms.url)
        with processes.running_workers(
            sinks=addresses, processes=options.workers, concurrency=options.concurrency
        ):
            wait_for_workers(options.workers)
            celery_app.control.purge()
            for n in range(options.publications):
                runs.append(
                    _publish_once(
                        level=LEVELS[n % 2],
                        editor=editor,
                        approver=approver,
                        sinks=sinks,
                        timeout=120,
                    )
                )
    result: dict[str, Any] = {
        "run": "approval_to_first_message",
        "publications": len(runs),
        "registrants": options.registrants,
        "messages_per_publication": round(statistics.mean(run["messages"] for run in runs)),
    }
    stages = ("first_message", "alert_created", "fan_out_started", "sends_queued", "first_claimed")
    for name in stages:
        values = [run[f"{name}_s"] for run in runs]
        result[f"{name}_p50_s"] = round(statistics.median(values), 3)
        result[f"{name}_p99_s"] = round(_percentile(values, 0.99), 3)
    print(measure.dump(result))
