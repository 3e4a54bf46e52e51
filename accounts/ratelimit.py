"""Rate limits for the public forms: a fixed-window counter per client address in Django's cache."""

import logging
import time

from django.core.cache import cache

logger = logging.getLogger(__name__)


def client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def ratelimit_consume(*, request, action: str, limit: int, period: int) -> bool:
    """Count one use of `action` by this client; False once `limit` uses were made in the current window of
    `period` seconds. A limit of 0 or less turns it off. When the cache is unreachable the request goes through:
    losing the limit for a moment costs less than refusing everyone while Redis is down."""
    if limit <= 0:
        return True
    window = int(time.time() // period)
    key = f"ratelimit:{action}:{client_ip(request) or 'unknown'}:{window}"
    try:
        if cache.add(key, 1, timeout=period + 30):
            return True
        return cache.incr(key) <= limit
    except ValueError:  # the window's key expired between add and incr: this is its first use
        return True
    except Exception as exc:
        logger.warning("rate limit cache unavailable, allowing %s: %s", action, exc)
        return True
