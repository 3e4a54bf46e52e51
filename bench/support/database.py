"""A scratch PostgreSQL database next to the one in DATABASE_URL, created for one benchmark run and dropped after."""

import os
import sys
from contextlib import contextmanager
from urllib.parse import urlparse


def scratch_database_url(suffix: str) -> str:
    source = os.environ.get("DATABASE_URL", "")
    if not source.startswith("postgres"):
        sys.exit("this benchmark needs DATABASE_URL pointing at PostgreSQL")
    parsed = urlparse(source)
    return parsed._replace(path=parsed.path.rstrip("/") + suffix).geturl()


def _admin_execute(url: str, *statements: str) -> None:
    import psycopg2

    parsed = urlparse(url)
    admin = psycopg2.connect(
        host=parsed.hostname,
        port=parsed.port or 5432,
        user=parsed.username,
        password=parsed.password,
        dbname="postgres",
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
    admin.close()


def database_recreate(url: str) -> None:
    name = urlparse(url).path.lstrip("/")
    _admin_execute(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')


def database_drop(url: str) -> None:
    _admin_execute(url, f'DROP DATABASE IF EXISTS "{urlparse(url).path.lstrip("/")}" WITH (FORCE)')


@contextmanager
def scratch_database(url: str):
    """Create the database named by `url` afresh, yield, and drop it whatever happened."""
    database_recreate(url)
    try:
        yield url
    finally:
        from django.db import connections

        connections.close_all()
        database_drop(url)
