"""Which real services a test needs, and what happens when one is missing: under CI=true a missing service is a
failure, elsewhere the test is skipped with the reason."""

import os
import shutil
import socket
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.db import connection

CHROMIUM = "/usr/bin/chromium"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def missing(reason: str) -> None:
    if in_ci():
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


def require_postgres() -> None:
    if connection.vendor != "postgresql":
        missing("this test needs PostgreSQL (set DATABASE_URL=postgres://...)")


def redis_url() -> str:
    return settings.REDIS_URL


def require_redis() -> str:
    url = settings.REDIS_URL
    if not url:
        missing("this test needs Redis (set REDIS_URL=redis://...)")
    parsed = urlparse(url)
    try:
        socket.create_connection((parsed.hostname, parsed.port or 6379), timeout=1).close()
    except OSError:
        missing(f"Redis does not answer at {url}")
    return url


def require_chromium() -> str:
    if not os.path.exists(CHROMIUM) and not shutil.which("chromium"):
        missing("this test needs Debian's Chromium at /usr/bin/chromium")
    return CHROMIUM


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
