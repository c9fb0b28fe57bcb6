"""An atomic fixed-window rate limiter on the Django cache (Redis in production).

    if not ratelimit.hit(key=f"register:{ratelimit.hashed_key('email', email)}",
                         limit=5, window_seconds=3600):
        raise Throttled(...)

Each (key, window) pair is one counter, created with its time-out and raised atomically (on
Redis, in one MULTI/EXEC round trip; elsewhere with the cache's `add` and `incr`), so concurrent
requests on any number of processes sharing the cache are counted exactly: at most `limit`
calls are allowed per window. A fixed window may let up to twice `limit` through across a
window boundary; that is the price of one round trip per call.

When the cache cannot be reached, `hit` logs a warning and returns `fail_open` (default
False: refuse). Callers choose: refusing is right for sign-up or code checks an attacker
could flood; a path that sends life-safety messages may prefer to let them through.

Keys must not hold personal data (they sit in Redis and show in its monitoring): pass emails,
phone numbers and the like through `hashed_key`.
"""

import hashlib
import hmac
import logging
import time

from django.conf import settings
from django.core.cache import cache
from redis.exceptions import RedisError

from core.cache_client import redis_client

logger = logging.getLogger(__name__)

# What the cache backends raise when their server is down or unreachable.
CACHE_ERRORS = (RedisError, OSError)


def hashed_key(namespace: str, value: str) -> str:
    """`namespace:<HMAC-SHA256 of the normalised value>`, keyed with SECRET_KEY so that the
    key cannot be reversed by hashing candidate emails or numbers."""
    digest = hmac.new(
        settings.SECRET_KEY.encode(),
        f"{namespace}\x00{value.strip().casefold()}".encode(),
        hashlib.sha256,
    ).hexdigest()
    return f"{namespace}:{digest[:32]}"


def hit(
    *, key: str, limit: int, window_seconds: int, fail_open: bool = False, cost: int = 1
) -> bool:
    """Count `cost` calls against `key` and say whether they fit within `limit` per window.
    A refused reservation still counts: the window's budget is never exceeded."""
    if "@" in key:
        raise ValueError("Rate-limit keys must not hold an email address: use hashed_key().")
    if limit < 1 or window_seconds < 1 or cost < 1:
        raise ValueError("limit, window_seconds and cost must be positive.")
    window = int(time.time() // window_seconds)
    counter = f"ratelimit:{window_seconds}:{window}:{key}"
    # The counter outlives its window: an `incr` racing with expiry could otherwise recreate it
    # without a time-out (the Redis backend checks existence, then increments).
    timeout = window_seconds * 2
    try:
        count = _count(counter, cost, timeout)
    except CACHE_ERRORS:
        logger.warning(
            "rate limiter: cache unreachable, %s the call", "allowing" if fail_open else "refusing"
        )
        return fail_open
    return count <= limit


def _count(counter: str, cost: int, timeout: int) -> int:
    """Add `cost` to the counter and return its new value, creating it with its time-out.

    On Redis, one round trip: create-if-missing and increment in one MULTI/EXEC. Django's
    cache API takes three (`add`, then `incr`, which checks existence before incrementing),
    on every throttled request. Other caches (development, tests) go through that API."""
    client = redis_client()
    if client is not None:
        key = cache.make_and_validate_key(counter)
        pipeline = client.pipeline(transaction=True)
        pipeline.set(key, 0, ex=timeout, nx=True)
        pipeline.incrby(key, cost)
        return int(pipeline.execute()[1])
    if cache.add(counter, cost, timeout):
        return cost
    try:
        return cache.incr(counter, cost)
    except ValueError:
        # Expired between `add` and `incr` (only once its window is long over).
        return cost if cache.add(counter, cost, timeout) else cache.incr(counter, cost)
