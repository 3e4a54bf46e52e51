"""The SQL a test captured, as the database ran it: a statement prepared on the session (`common.prepared`) is sent
as `EXECUTE name(values)`; these helpers give its text instead, so that a test can look for what it reads."""

import re

from django.db import connection

_EXECUTE = re.compile(r"EXECUTE (dlsc_[0-9a-f]+)")


def prepared_text(name: str) -> str:
    """The statement prepared on this session under `name`, without its `PREPARE name AS ` head."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE name = %s", [name])
        (statement,) = cursor.fetchone()
    return statement.removeprefix(f"PREPARE {name} AS ")


def statements_run(queries) -> list[str]:
    """Each captured query's SQL, with every `EXECUTE` of a prepared statement replaced by that statement."""
    return [_EXECUTE.sub(lambda match: prepared_text(match.group(1)), query["sql"]) for query in queries]
