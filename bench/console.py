"""`python -m bench --console [--size 100000] [--requests 60]`: the crisis console of a country
in crisis, timed server-side. Mali gets `size` citizens (a third of them with a household
member), a level change sent to them (about 1.5 deliveries a citizen: 150,000 at 100,000,
delivered, failed and on their way), an open safety check over every region with part of the
answers in, a previous version for the console's diff; then an officer of Bamako opens
`/staff/countries/ML/` through Django's request handler, and the same page of a country with
nobody in it (Niger) is the baseline of the same run. Prints one JSON line with p50/p95 in ms
and the page's query count."""

import argparse
import datetime
import statistics
import time
from collections.abc import Sequence
from typing import Any

import django_otp
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest
from django.test import Client
from django.test.utils import override_settings
from django.utils import timezone

from accounts.demo import seed_posts_and_staff
from accounts.mfa import totp_device_set
from accounts.models import Post, User
from advisories.models import Advisory
from bench import measure, seed
from bench.fanout import BenchmarkError
from cases.models import SafetyCheck, SafetyResponse
from cases.services import safety_checks
from console.selectors import register_counts_key
from consular.celery import app as celery_app
from notifications.models import Alert, Delivery
from regions.services import geography_load
from registrations.models import Citizen, HouseholdMember

# The target for the console's 95th percentile, server time.
TARGET_P95_MS = 300
COUNTRY = "ML"
# A country the officer's post covers with nobody registered: the page's floor.
EMPTY_COUNTRY = "NE"
WARM_UP = 5


def _arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench --console")
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=60)
    # Time again over the data the previous run seeded (the seed takes minutes at 100,000).
    parser.add_argument("--reuse", action="store_true")
    return parser.parse_args(argv)


def _households(size: int) -> int:
    """One household member for every third Mali citizen, encrypted as the register writes
    them (bulk, in batches)."""
    citizen_ids = Citizen.objects.filter(presences__country_id="ML").order_by("id")
    members = [
        HouseholdMember(citizen_id=citizen_id, name="Bench Member", relation="child")
        for n, citizen_id in enumerate(citizen_ids.values_list("id", flat=True)[:size])
        if n % 3 == 0
    ]
    HouseholdMember.objects.bulk_create(members, batch_size=5000)
    return len(members)


def _deliveries(advisory: Advisory) -> int:
    """A level change's ledger for Mali, written in SQL as the fan-out writes it: one row per
    verified channel, most delivered, some failed, some still on their way."""
    alert = Alert.objects.create(
        kind=Alert.Kind.LEVEL_CHANGE,
        state=Alert.State.SENDING,
        country_id="ML",
        advisory=advisory,
        changes=[{"region_code": code, "old_level": 2, "new_level": 3} for code in ["ML-7"]],
        region_codes=seed.MALI_REGIONS,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO notifications_delivery (alert_id, citizen_id, channel, region_code,
                language, status, attempts, next_attempt_at, provider_id, error_code,
                error_reason, segments, created_at, sent_at, delivered_at)
            SELECT %s, c.id, ch.channel, coalesce(p.region_id, ''), c.language,
                CASE WHEN mod(row_number() OVER (), 20) = 0 THEN 'failed'
                     WHEN mod(row_number() OVER (), 20) = 1 THEN 'pending'
                     WHEN mod(row_number() OVER (), 20) = 2 THEN 'sent'
                     ELSE 'delivered' END,
                1, now(), 'bench-' || c.id || '-' || ch.channel, '', '', 1, now(), now(), now()
            FROM registrations_citizen c
            JOIN registrations_presence p ON p.citizen_id = c.id AND p.country_id = 'ML'
            CROSS JOIN (VALUES ('email'), ('sms')) AS ch(channel)
            WHERE (ch.channel = 'email' AND c.email_verified_at IS NOT NULL)
               OR (ch.channel = 'sms' AND c.phone_verified_at IS NOT NULL)
            """,
            [alert.id],
        )
        cursor.execute(
            "UPDATE notifications_delivery SET provider_id = '', sent_at = NULL, "
            "delivered_at = NULL, error_code = 'bench', error_reason = 'Unreachable' "
            "WHERE alert_id = %s AND status IN ('failed', 'pending')",
            [alert.id],
        )
    count = Delivery.objects.filter(alert=alert).count()
    Alert.objects.filter(id=alert.id).update(
        people=Citizen.objects.filter(presences__country_id="ML").count(), messages=count
    )
    return count


def _open_check(officer: User, approver: User) -> SafetyCheck:
    """A check over every Mali region, started through the services (its responses written
    by the service's own SQL); its question's fan-out is purged from the broker, since the
    ledger above stands for the messages, and a share of the answers is written in."""
    check = safety_checks.safety_check_create(
        author=officer,
        country_code="ML",
        fields=safety_checks.CheckFields(
            region_codes=seed.MALI_REGIONS,
            question_en="Fighting reported. Are you safe?",
            question_fr="Combats signalés. Êtes-vous en sécurité ?",
            deadline=timezone.now() + datetime.timedelta(hours=6),
        ),
    )
    safety_checks.safety_check_submit(check=check, submitted_by=officer)
    check = safety_checks.safety_check_approve(check=check, approver=approver)
    celery_app.control.purge()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE cases_safetyresponse SET status = CASE WHEN mod(id, 50) = 0 "
            "THEN 'needs_help' ELSE 'safe' END, via = 'web', answered_at = now() "
            "WHERE safety_check_id = %s AND mod(id, 5) < 2",
            [check.id],
        )
    return check


def _signed_in_client(user: User) -> Client:
    """A client holding the officer's session past the second factor, as the sign-in leaves
    it."""
    client = Client()
    client.force_login(user)
    session = client.session
    request = HttpRequest()
    request.session = session
    request.user = user
    django_otp.login(request, totp_device_set(user=user, key_hex="00" * 20))
    session.save()
    return client


def _timed(client: Client, url: str, requests: int, *, cold: bool = False) -> dict[str, Any]:
    """p50/p95 of `requests` GETs after a warm-up; `cold` drops the console's cached
    register counts before each, so every request counts the register again."""
    for _ in range(WARM_UP):
        response = client.get(url)
        if response.status_code != 200:
            raise BenchmarkError(f"{url} answered {response.status_code}")
    if cold:
        cache.delete(register_counts_key(country_code=COUNTRY))
    queries: list[str] = []

    def counted(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counted):
        client.get(url)
    times = []
    for _ in range(requests):
        if cold:
            cache.delete(register_counts_key(country_code=COUNTRY))
        started = time.perf_counter()
        client.get(url)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(times[max(0, round(0.95 * len(times)) - 1)], 1),
        "max_ms": round(times[-1], 1),
        "queries": len(queries),
    }


def _seed(size: int, officer: User) -> None:
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE cases_safetycheck CASCADE")
    seed.seed_register(size=size)
    _households(size)
    seed.publish_mali(2, alerting=False)
    _deliveries(seed.publish_mali(3, alerting=False))
    _open_check(officer, User.objects.get(username="bamako-approver"))
    with connection.cursor() as cursor:
        # As autovacuum leaves tables after a bulk load: statistics, and visibility maps
        # for index-only scans.
        for table in (
            "registrations_citizen",
            "registrations_presence",
            "registrations_householdmember",
            "notifications_delivery",
            "cases_safetyresponse",
        ):
            cursor.execute(f"VACUUM ANALYZE {table}")


def main(argv: Sequence[str]) -> None:
    options = _arguments(argv)
    measure.require_bench_database()
    geography_load(country_codes={"ML", "LB", EMPTY_COUNTRY})
    seed_posts_and_staff()
    Post.countries.through.objects.get_or_create(
        post=Post.objects.get(code="bamako"), country_id=EMPTY_COUNTRY
    )
    officer = User.objects.get(username="bamako-officer")
    started = time.perf_counter()
    if not options.reuse:
        _seed(options.size, officer)
    seeded_s = time.perf_counter() - started

    client = _signed_in_client(officer)
    # As deployed: no query log kept in memory by DEBUG.
    with override_settings(DEBUG=False):
        console = _timed(client, f"/staff/countries/{COUNTRY}/", options.requests)
        uncached = _timed(client, f"/staff/countries/{COUNTRY}/", options.requests, cold=True)
        baseline = _timed(client, f"/staff/countries/{EMPTY_COUNTRY}/", options.requests)
    print(
        measure.dump(
            {
                "bench": "console",
                "registrants": options.size,
                "citizens_ml": Citizen.objects.filter(presences__country_id=COUNTRY).count(),
                "household_members": HouseholdMember.objects.count(),
                "deliveries": Delivery.objects.filter(alert__country_id=COUNTRY).count(),
                "check_responses": SafetyResponse.objects.filter(
                    safety_check__status=SafetyCheck.Status.OPEN
                ).count(),
                "seeded_s": round(seeded_s, 1),
                "requests": options.requests,
                "console": console,
                "console_register_uncounted": uncached,
                "baseline_empty_country": baseline,
                "target_p95_ms": TARGET_P95_MS,
                "met": console["p95_ms"] < TARGET_P95_MS,
            }
        )
    )
