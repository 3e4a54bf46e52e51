"""The project's settings as the tests run them: a fast password hasher and, under pytest-xdist, Redis databases of
each worker's own. Every worker clears its cache before each test and its Celery workers listen on its broker: sharing
one database would let a worker empty another's cache or take another's tasks. The environment is changed before
the project's settings read it, so the Celery workers and servers a test starts (which inherit it) agree."""

import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import environ

environ.Env.read_env(Path(__file__).resolve().parents[2] / ".env", overwrite=False)


def redis_database_shift(url: str, by: int) -> str:
    """The same Redis with a database number `by` higher (database 0 when the URL names none)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{int(parts.path.strip('/') or 0) + by}"))


def worker_number() -> int | None:
    """0 for pytest-xdist's first worker (gw0), 1 for the next; None when the run is not parallel."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return int(worker.removeprefix("gw")) if worker.startswith("gw") else None


def parallel_environment() -> None:
    number = worker_number()
    broker = os.environ.get("REDIS_URL")
    # A process a test starts inherits both the worker's name and the shifted URLs: it must not shift them again.
    if number is None or not broker or os.environ.get("TEST_REDIS_SHIFTED_FOR") == str(number):
        return
    # The run's own pair (broker N, cache N + 1) stays unused; worker k takes N + 2(k + 1) and the one after it.
    cache = os.environ.get("REDIS_CACHE_URL") or redis_database_shift(broker, 1)
    os.environ["REDIS_URL"] = redis_database_shift(broker, 2 * (number + 1))
    os.environ["REDIS_CACHE_URL"] = redis_database_shift(cache, 2 * (number + 1))
    os.environ["TEST_REDIS_SHIFTED_FOR"] = str(number)


parallel_environment()

from dlsc.settings import *  # noqa: E402,F403

# Every factory user would otherwise pay PBKDF2's full iteration count.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The rush tests queue hundreds of sign-ups on one event's lock, on a machine that runs several test processes (and
# other people's): a wait beyond production's 5 s is load there, not a lost lock. Tests of the timeout set their own.
DB_LOCK_TIMEOUT_MS = 60_000
