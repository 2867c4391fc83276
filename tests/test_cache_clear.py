"""cache.clear() on Redis deletes the cache's own keys, never Celery's routing in the same
database (a FLUSHDB made every later task vanish: kombu's bindings went with it)."""

import pytest
import redis
from django.conf import settings
from django.core.cache import cache

from tests.celery_worker import require_redis


def test_clearing_the_cache_keeps_celerys_bindings_and_queues():
    url = require_redis()
    if "Redis" not in settings.CACHES["default"]["BACKEND"]:
        pytest.fail("the cache is not Redis although REDIS_URL is set")
    client = redis.Redis.from_url(url)
    client.sadd("_kombu.binding.test-clear", "celery\x06\x16\x06\x16celery")
    cache.set("mine", 1)
    cache.clear()
    assert cache.get("mine") is None
    assert client.exists("_kombu.binding.test-clear")
    client.delete("_kombu.binding.test-clear")
