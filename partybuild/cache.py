"""Django's Redis cache, degrading to no cache while Redis is unavailable.

The cache holds nothing that is not somewhere else (grading progress, forecasts), so a
page must not fail because Redis does: a read is a miss, a write is dropped. After a
failure Redis is left alone for ``RETRY_SECONDS``, so a page with several cache calls
pays for one refused connection, not one per call; then the next call tries again, and
the cache is back without a restart.
"""

import logging
import time

import redis.exceptions
from django.core.cache.backends.redis import RedisCache

logger = logging.getLogger(__name__)
ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)
RETRY_SECONDS = 5.0


class ForgivingRedisCache(RedisCache):
    _down_until = 0.0  # per process: monotonic time before which Redis is not tried

    def _call(self, method: str, default, *args, **kwargs):
        if time.monotonic() < ForgivingRedisCache._down_until:
            return default
        try:
            # Our own helpers (``_name``) are methods of this class; the rest Django's.
            target = getattr(self, method) if method.startswith("_") else getattr(super(), method)
            return target(*args, **kwargs)
        except ERRORS as exc:
            if ForgivingRedisCache._down_until == 0.0 or time.monotonic() >= ForgivingRedisCache._down_until:
                logger.warning("cache unavailable, working without it for %ss: %s", RETRY_SECONDS, exc)
            ForgivingRedisCache._down_until = time.monotonic() + RETRY_SECONDS
            return default

    def add(self, *args, **kwargs):
        return self._call("add", False, *args, **kwargs)

    def get(self, key, default=None, version=None):
        return self._call("get", default, key, default, version)

    def set(self, *args, **kwargs):
        return self._call("set", None, *args, **kwargs)

    def touch(self, *args, **kwargs):
        return self._call("touch", False, *args, **kwargs)

    def delete(self, *args, **kwargs):
        return self._call("delete", False, *args, **kwargs)

    def get_many(self, *args, **kwargs):
        return self._call("get_many", {}, *args, **kwargs)

    def has_key(self, *args, **kwargs):
        return self._call("has_key", False, *args, **kwargs)

    def set_many(self, keys, *args, **kwargs):
        return self._call("set_many", list(keys), keys, *args, **kwargs)

    def delete_many(self, *args, **kwargs):
        return self._call("delete_many", None, *args, **kwargs)

    def clear(self):
        return self._call("_clear_own_keys", False)

    def _clear_own_keys(self) -> bool:
        """Delete this cache's keys only. Django's ``clear()`` is FLUSHDB, which also wipes
        what Celery keeps in the same Redis database — the queues and kombu's exchange
        bindings (``_kombu.binding.celery``): after it, every task published is routed to
        no queue and silently dropped until a worker declares its queue again."""
        client = self._cache.get_client(write=True)
        keys = []
        for key in client.scan_iter(match=f"{self.key_prefix}:*", count=1000):
            keys.append(key)
            if len(keys) == 1000:
                client.delete(*keys)
                keys = []
        if keys:
            client.delete(*keys)
        return True

    def incr(self, key, delta=1, version=None):
        missing = object()
        value = self._call("incr", missing, key, delta, version)
        if value is missing:  # as for a key that is not there
            raise ValueError(f"Key '{key}' not found (the cache is unavailable).")
        return value
