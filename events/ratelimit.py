"""A small fixed-window limit on public sign-ups per client IP, kept in Django's cache."""

import logging
import time

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)


def client_ip(request) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def signup_allowed(request) -> bool:
    """One cache round trip per sign-up. When the cache is unreachable the sign-up goes through: losing the
    limit for a moment costs less than refusing people while Redis is down."""
    limit = settings.EVENTS_SIGNUP_RATE_PER_MINUTE
    if limit <= 0:
        return True
    key = f"events:signup:{client_ip(request)}:{int(time.time() // 60)}"
    try:
        if cache.add(key, 1, timeout=90):
            return True
        return cache.incr(key) <= limit
    except Exception as exc:
        logger.warning("events: rate limit cache unavailable, allowing the sign-up: %s", exc)
        return True
