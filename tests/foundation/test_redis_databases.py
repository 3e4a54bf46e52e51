"""The cache and the Celery broker live in different Redis databases: clearing the cache never drops queued tasks."""

import redis
from django.conf import settings
from django.core.cache import cache

from dlsc.settings import redis_cache_url
from tests.support import services


def test_cache_url_defaults_to_the_next_database_of_the_broker():
    assert redis_cache_url("redis://127.0.0.1:6379/20") == "redis://127.0.0.1:6379/21"
    assert redis_cache_url("redis://:secret@redis:6380") == "redis://:secret@redis:6380/1"
    assert redis_cache_url("rediss://cache.example:6380/3?ssl_cert_reqs=none") == (
        "rediss://cache.example:6380/4?ssl_cert_reqs=none"
    )


def test_clearing_the_cache_keeps_what_waits_in_the_broker_database():
    services.require_redis()
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.set("test:queued-task", "kept")
    try:
        cache.set("test:cached", "dropped")
        cache.clear()
        assert cache.get("test:cached") is None
        assert broker.get("test:queued-task") == b"kept"
    finally:
        broker.delete("test:queued-task")
