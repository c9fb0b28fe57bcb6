"""Health checks behind /healthz. Core checks the database and the broker; apps above add
their own (a channel with no provider, say) from their AppConfig.ready()."""

from collections.abc import Callable
from dataclasses import dataclass

from celery import current_app
from django.db import connection


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    detail: str
    # A check that is not critical is reported in the details but leaves the status 200: a
    # partner's feed going stale must not take the site out of a load balancer.
    critical: bool = True


HealthCheck = Callable[[], CheckResult]

_checks: dict[str, HealthCheck] = {}


def register(name: str, check: HealthCheck) -> None:
    _checks[name] = check


def database() -> CheckResult:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any failure means "down", reported not raised
        return CheckResult(ok=False, detail=type(exc).__name__)
    return CheckResult(ok=True, detail=connection.vendor)


def broker() -> CheckResult:
    try:
        with current_app.connection_for_write(connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=3)
            transport = conn.transport_cls
    except Exception as exc:  # noqa: BLE001
        return CheckResult(ok=False, detail=type(exc).__name__)
    return CheckResult(ok=True, detail=str(transport))


register("database", database)
register("broker", broker)


def run_all() -> dict[str, CheckResult]:
    return {name: check() for name, check in _checks.items()}
