"""A fixed-window counter in the cache, keyed by client IP, for the public subscription form."""

from django.core.cache import cache


def client_ip(request) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def ratelimit_consume(*, request, action: str, limit: int, period: int) -> bool:
    """Count one use; False once `limit` uses were made in the current window."""
    key = f"ratelimit:{action}:{client_ip(request)}"
    if cache.add(key, 1, timeout=period):
        return limit >= 1
    try:
        used = cache.incr(key)
    except ValueError:  # the window ended between add and incr
        cache.add(key, 1, timeout=period)
        used = 1
    return used <= limit
