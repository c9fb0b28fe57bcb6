"""Suite-wide fixtures and the service markers.

`postgres`, `broker`, `redis` and `browser` tests need a real PostgreSQL, broker, Redis cache
or Chromium. Without them they skip with the reason shown; with CONSULAR_REQUIRE_SERVICES=1
(CI) they fail instead, so a green CI run has really exercised the production components."""

import os
import shutil

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from rest_framework.test import APIClient

from core import sms
from core.channels import OutgoingMessage
from regions.selectors import places_forget
from regions.services import geography_load

# Playwright's sync API runs an event loop in the test thread; Django's async-safety guard
# would refuse the database access of the live server fixtures without this.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"

# One Playwright and one browser for the whole run, whichever folders the browser tests are in.
pytest_plugins = ["tests.browser.fixtures"]


def pytest_configure(config: pytest.Config) -> None:
    # A deliberately slow password hash is the point in production and pure cost in tests,
    # which create hundreds of staff accounts; logging in works the same with a fast one.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _missing_service(marker: str) -> str | None:
    if marker == "postgres" and connection.vendor != "postgresql":
        return "needs PostgreSQL: set DATABASE_URL=postgres://..."
    if marker == "broker" and settings.CELERY_BROKER_URL.split("://")[0] not in {"amqp", "redis"}:
        return "needs a broker: set CELERY_BROKER_URL=amqp://... or redis://..."
    if marker == "redis" and not settings.CACHES["default"]["BACKEND"].endswith("RedisCache"):
        return "needs Redis as the cache: set CACHE_URL=redis://..."
    if marker == "browser" and not shutil.which(CHROMIUM):
        return f"needs Debian's chromium at {CHROMIUM} (apt-get install chromium)"
    return None


def pytest_runtest_setup(item: pytest.Item) -> None:
    for marker in ("postgres", "broker", "browser", "redis"):
        if item.get_closest_marker(marker) is None:
            continue
        reason = _missing_service(marker)
        if reason is None:
            continue
        if os.environ.get("CONSULAR_REQUIRE_SERVICES") == "1":
            pytest.fail(f"service required in CI: {reason}")
        pytest.skip(reason)


@pytest.fixture(autouse=True)
def fresh_cache() -> None:
    """Throttles (the API-wide one included) and message allowances count in the cache per
    client address, and every test calls from 127.0.0.1: each test starts at zero. The places
    a process keeps once found go too, as each test's geography goes with its transaction."""
    cache.clear()
    places_forget()


@pytest.fixture(autouse=True)
def sms_outbox(settings) -> list[OutgoingMessage]:
    """Like Django's mail.outbox: every test sends SMS into a fresh in-memory outbox."""
    settings.SMS_BACKEND = "core.sms.backends.locmem.SmsBackend"
    sms.outbox.clear()
    return sms.outbox


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def geography(db: None) -> None:
    """Mali, Lebanon and France (nested subdivisions): enough geography for most tests."""
    geography_load(country_codes={"ML", "LB", "FR"})
