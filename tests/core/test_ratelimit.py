import datetime as dt
import threading
import uuid

import pytest
import time_machine

from core import ratelimit

NOON = dt.datetime(2026, 5, 4, 12, 0, 10, tzinfo=dt.UTC)


@pytest.fixture
def key() -> str:
    # Unique per test: the Redis cache is shared with other runs.
    return f"test:{uuid.uuid4().hex}"


def test_allows_the_limit_then_refuses(key):
    with time_machine.travel(NOON, tick=False):
        results = [ratelimit.hit(key=key, limit=3, window_seconds=60) for _ in range(5)]

    assert results == [True, True, True, False, False]


def test_a_new_window_starts_a_new_count(key):
    with time_machine.travel(NOON, tick=False):
        for _ in range(3):
            ratelimit.hit(key=key, limit=3, window_seconds=60)
        assert ratelimit.hit(key=key, limit=3, window_seconds=60) is False

    with time_machine.travel(NOON + dt.timedelta(seconds=60), tick=False):
        assert ratelimit.hit(key=key, limit=3, window_seconds=60) is True


def test_keys_are_counted_apart(key):
    with time_machine.travel(NOON, tick=False):
        assert ratelimit.hit(key=key + ":a", limit=1, window_seconds=60) is True
        assert ratelimit.hit(key=key + ":b", limit=1, window_seconds=60) is True
        assert ratelimit.hit(key=key + ":a", limit=1, window_seconds=60) is False


def test_hashed_key_hides_the_value_and_ignores_case_and_spaces(settings):
    key = ratelimit.hashed_key("email", "Amina.Traore@example.org")

    assert key.startswith("email:")
    assert "amina" not in key.lower()
    assert "example" not in key
    assert key == ratelimit.hashed_key("email", " amina.traore@EXAMPLE.org ")
    assert key != ratelimit.hashed_key("phone", "Amina.Traore@example.org")
    settings.SECRET_KEY = "another-secret-key-for-this-test-only-0123456789"
    assert key != ratelimit.hashed_key("email", "Amina.Traore@example.org")


def test_a_raw_email_in_a_key_is_refused():
    with pytest.raises(ValueError, match="hashed_key"):
        ratelimit.hit(key="register:amina@example.org", limit=5, window_seconds=60)


def test_an_unreachable_cache_refuses_unless_the_caller_fails_open(settings, key, caplog):
    # Nothing listens on port 1: a real refused connection.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }

    assert ratelimit.hit(key=key, limit=5, window_seconds=60) is False
    assert ratelimit.hit(key=key, limit=5, window_seconds=60, fail_open=True) is True
    assert "cache unreachable" in caplog.text


@pytest.mark.redis
def test_concurrent_calls_on_redis_allow_exactly_the_limit(key):
    limit, threads, calls_each = 37, 16, 12
    allowed: list[bool] = []
    lock = threading.Lock()
    start = threading.Barrier(threads)

    def hammer() -> None:
        start.wait()
        mine = [ratelimit.hit(key=key, limit=limit, window_seconds=3600) for _ in range(calls_each)]
        with lock:
            allowed.extend(mine)

    # One fixed instant for every thread, so no window boundary splits the count.
    with time_machine.travel(NOON, tick=False):
        workers = [threading.Thread(target=hammer) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()

    assert len(allowed) == threads * calls_each
    assert allowed.count(True) == limit
