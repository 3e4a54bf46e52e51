"""The cache backend: Redis that never fails a request. When Redis errs, times out or is gone, each call is served
by a local memory cache instead (reads miss, rate limits count per process) and Redis is left alone for a few
seconds, so a frozen server costs one socket timeout, not one per call."""

import logging
import threading
import time

from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


class FailOpenRedisCache(RedisCache):
    """OPTIONS take `retry_after` (seconds Redis is skipped after a failure, default 5) besides redis-py's own."""

    def __init__(self, server, params):
        options = dict(params.get("OPTIONS") or {})
        self.retry_after = options.pop("retry_after", 5)
        super().__init__(server, {**params, "OPTIONS": options})
        self.local = LocMemCache(f"fail-open:{server}", {**params, "OPTIONS": {"MAX_ENTRIES": 10_000}})
        self._down_until = 0.0
        self._lock = threading.Lock()

    @property
    def redis_skipped(self) -> bool:
        return time.monotonic() < self._down_until

    def _call(self, name: str, *args, **kwargs):
        if not self.redis_skipped:
            try:
                return getattr(RedisCache, name)(self, *args, **kwargs)
            except RedisError as exc:
                with self._lock:
                    self._down_until = time.monotonic() + self.retry_after
                logger.warning("cache: Redis failed (%s), local memory for %ss: %s", name, self.retry_after, exc)
        return getattr(self.local, name)(*args, **kwargs)

    def add(self, *args, **kwargs):
        return self._call("add", *args, **kwargs)

    def get(self, *args, **kwargs):
        return self._call("get", *args, **kwargs)

    def set(self, *args, **kwargs):
        return self._call("set", *args, **kwargs)

    def touch(self, *args, **kwargs):
        return self._call("touch", *args, **kwargs)

    def delete(self, *args, **kwargs):
        return self._call("delete", *args, **kwargs)

    def get_many(self, *args, **kwargs):
        return self._call("get_many", *args, **kwargs)

    def has_key(self, *args, **kwargs):
        return self._call("has_key", *args, **kwargs)

    def incr(self, *args, **kwargs):
        return self._call("incr", *args, **kwargs)

    def set_many(self, *args, **kwargs):
        return self._call("set_many", *args, **kwargs)

    def delete_many(self, *args, **kwargs):
        return self._call("delete_many", *args, **kwargs)

    def clear(self):
        self.local.clear()
        return self._call("clear")
