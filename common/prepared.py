"""Server-side prepared statements, for the rare statement whose parsing and planning cost more than running it: the
sign-up's one statement under the event lock took 0.7 ms as text and 0.24 ms prepared.

A statement is prepared once per database session, under a name taken from its text, and kept for the session
(PostgreSQL does not roll a PREPARE back). Where sessions are shared between clients (a pooler in transaction mode,
for which Django's `DISABLE_SERVER_SIDE_CURSORS` is set), and on other databases, the statement is sent as text."""

import functools
import hashlib
import re

from django.db import DEFAULT_DB_ALIAS, connections

_PLACEHOLDER = re.compile(r"%s")


def statement_quoted(sql: str, params: list, *, using: str = DEFAULT_DB_ALIAS) -> str:
    """`sql` (with `%s` placeholders, and no other `%`) with `params` in place, as a statement to pass to
    `cursor.execute` without parameters: `EXECUTE <name>(<values>)` of a statement prepared on this session where
    prepared statements are used, else the statement itself. Quoting the values here, before a lock is taken,
    keeps that work out of the lock's hold."""
    if sql.count("%s") != len(params):
        raise ValueError("the statement's placeholders and parameters differ in number")
    connection = connections[using]
    prepare = connection.vendor == "postgresql" and not connection.settings_dict.get("DISABLE_SERVER_SIDE_CURSORS")
    with connection.cursor() as cursor:
        if not prepare:
            return cursor.mogrify(sql, params).decode()
        name = _statement_name(sql)
        if name not in _session_prepared(connection):
            numbers = iter(range(1, len(params) + 1))
            numbered = _PLACEHOLDER.sub(lambda _match: f"${next(numbers)}", sql)
            cursor.execute(f"PREPARE {name} AS {numbered}")
            _session_prepared(connection).add(name)
        arguments = f"({', '.join(['%s'] * len(params))})" if params else ""
        return cursor.mogrify(f"EXECUTE {name}{arguments}", params).decode()


def execute_prepared(cursor, sql: str, params: list, *, using: str = DEFAULT_DB_ALIAS) -> None:
    """`cursor.execute(sql, params)`, prepared on the session on PostgreSQL (`statement_quoted`); as it is elsewhere
    (SQLite in development has no prepared statements to speak of, nor a way to quote)."""
    if connections[using].vendor == "postgresql":
        cursor.execute(statement_quoted(sql, params, using=using))
    else:
        cursor.execute(sql, params)


@functools.lru_cache(maxsize=256)
def _statement_name(sql: str) -> str:
    """The name a statement is prepared under, from its text (hashed once per process: a sign-up's is 5 kB)."""
    return "dlsc_" + hashlib.blake2s(sql.encode(), digest_size=10).hexdigest()


def _session_prepared(connection) -> set[str]:
    """The names prepared on the connection's current session; a new session (a reconnect) starts empty. The
    session is recognised by its driver connection object, which the wrapper holds for as long as it lasts."""
    held = getattr(connection, "_dlsc_prepared", None)
    if held is None or held[0] is not connection.connection:
        held = connection._dlsc_prepared = (connection.connection, set())
    return held[1]
