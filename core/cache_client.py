"""The default cache's Redis, spoken to directly on the hot paths where Django's cache API
costs more than the round trip: its Redis backend builds a new client, and the client's table
of reply callbacks, on every call."""

import functools

import redis
from django.conf import settings


@functools.cache
def _client(location: str) -> redis.Redis:
    # One client, and its connection pool, per process: built on first use, then kept.
    return redis.Redis.from_url(location)


def redis_client() -> redis.Redis | None:
    """The default cache's client when that cache is one Redis server; None for any other
    (development's and tests' local memory, a list of replicas: Django knows which one takes
    writes), which callers reach through Django's cache API."""
    default = settings.CACHES["default"]
    location = default.get("LOCATION")
    if (
        default["BACKEND"].endswith("RedisCache")
        and isinstance(location, str)
        and "," not in location
    ):
        return _client(location)
    return None
