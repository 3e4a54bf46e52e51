"""Server-side prepared statements, for the rare statement whose parsing and planning cost more than running it: the
sign-up's one statement under the event lock took 0.7 ms as text and 0.24 ms prepared.

A statement is prepared once per database session, under a name taken from its text, and kept for the session
(PostgreSQL does not roll a PREPARE back). Where sessions are shared between clients (a pooler in transaction mode,
for which Django's `DISABLE_SERVER_SIDE_CURSORS` is set), and on other databases, the statement is sent as text."""

import datetime
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
    if not prepare:
        with connection.cursor() as cursor:
            return cursor.mogrify(sql, params).decode()
    name = _statement_name(sql)
    connection.ensure_connection()
    session = _session(connection)
    if name not in session.prepared:
        numbers = iter(range(1, len(params) + 1))
        numbered = _PLACEHOLDER.sub(lambda _match: f"${next(numbers)}", sql)
        with connection.cursor() as cursor:
            cursor.execute(f"PREPARE {name} AS {numbered}")
        session.prepared.add(name)
    if not params:
        return f"EXECUTE {name}"
    arguments = _literals(params) if session.plain_quoting else None
    if arguments is None:
        with connection.cursor() as cursor:
            return cursor.mogrify(f"EXECUTE {name}({', '.join(['%s'] * len(params))})", params).decode()
    return f"EXECUTE {name}({arguments})"


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


class _Session:
    """What this module keeps about one database session: the names prepared on it, and whether its values may be
    quoted here (`_literals`) rather than by the driver."""

    def __init__(self, driver_connection):
        self.driver_connection = driver_connection
        self.prepared: set[str] = set()
        # Doubling the single quote is all the quoting a literal needs where standard_conforming_strings is on (a
        # backslash is then an ordinary character) and the client encoding is UTF-8 (no multi-byte character ends
        # in a byte that reads as a quote), as PostgreSQL's own quote_literal does; otherwise the driver quotes.
        self.plain_quoting = (
            getattr(driver_connection, "encoding", None) == "UTF8"
            and driver_connection.get_parameter_status("standard_conforming_strings") == "on"
        )


def _session(connection) -> _Session:
    """This module's record of the connection's current session; a new session (a reconnect) starts empty. The
    session is recognised by its driver connection object, which the wrapper holds for as long as it lasts."""
    held = getattr(connection, "_dlsc_session", None)
    if held is None or held.driver_connection is not connection.connection:
        held = connection._dlsc_session = _Session(connection.connection)
    return held


def _literals(params: list) -> str | None:
    """`params` as a comma-separated list of SQL literals, as the driver's `mogrify` writes them, for the kinds of
    value the hot statements carry (text, whole numbers, yes/no, null, moments); None when one is of another kind,
    or is text the database cannot hold (a NUL), which the driver then quotes or refuses. A sign-up's 26 values took
    the driver's `mogrify` 87 µs, most of it adapting each value, and take this 27 µs."""
    literals = []
    for value in params:
        kind = type(value)
        if kind is str:
            if "\x00" in value:
                return None
            literals.append("'" + value.replace("'", "''") + "'")
        elif kind is int:
            literals.append(str(value) if value >= 0 else f" {value}")  # as the driver: no "--" after a minus
        elif value is None:
            literals.append("NULL")
        elif kind is bool:
            literals.append("true" if value else "false")
        elif kind is datetime.datetime:
            cast = "timestamp" if value.tzinfo is None else "timestamptz"
            literals.append(f"'{value.isoformat()}'::{cast}")
        else:
            return None
    return ", ".join(literals)
