"""What the benchmark measures and prints: waiting for a condition, the ledger against what the
sinks received, and a result as a JSON line."""

import json
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import connection

from notifications.models import Delivery


class BenchmarkError(Exception):
    """The benchmark cannot run here, or a run did not do what the ledger expects."""


def require_bench_database() -> None:
    """Every benchmark writes and deletes freely: never on a database not meant for it."""
    if connection.vendor != "postgresql" or "bench" not in connection.settings_dict["NAME"]:
        raise BenchmarkError("Run on a PostgreSQL database whose name contains 'bench'.")


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


def settings_summary() -> dict[str, Any]:
    return {"rate_limits": settings.ALERT_RATE_LIMITS, "chunk": settings.ALERT_CHUNK_SIZE}
