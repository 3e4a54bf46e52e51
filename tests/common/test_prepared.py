"""Statements prepared once per database session, and sent as text where sessions may be shared."""

import pytest
from django.db import connection

from common.prepared import statement_quoted
from tests.support.services import require_postgres

pytestmark = pytest.mark.django_db

SQL = "SELECT CAST(%s AS integer) + 1, CAST(%s AS text)"


def _prepared_names() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements WHERE name LIKE 'dlsc_%%' ORDER BY name")
        return [row[0] for row in cursor.fetchall()]


def _run(statement: str) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(statement)
        return cursor.fetchone()


def _name(statement: str) -> str:
    return statement.removeprefix("EXECUTE ").partition("(")[0]


def test_a_statement_is_prepared_once_per_session_and_executed_with_its_values():
    require_postgres()
    first = statement_quoted(SQL, [41, "it's"])
    second = statement_quoted(SQL, [1, "b"])
    name = _name(first)
    assert name.startswith("dlsc_")
    assert _prepared_names().count(name) == 1
    assert first == f"EXECUTE {name}(41, 'it''s')"
    assert second == f"EXECUTE {name}(1, 'b')"
    assert (_run(first), _run(second)) == ((42, "it's"), (2, "b"))
    assert _name(statement_quoted("SELECT CAST(%s AS integer) + 2", [1])) != name


@pytest.mark.django_db(transaction=True)
def test_a_new_session_prepares_again():
    require_postgres()
    name = _name(statement_quoted(SQL, [1, "a"]))
    connection.close()  # a reconnect: the new session has nothing prepared
    statement = statement_quoted(SQL, [2, "b"])
    assert _prepared_names().count(name) == 1
    assert _run(statement) == (3, "b")


def test_where_sessions_may_be_shared_the_statement_goes_as_text():
    require_postgres()
    connection.settings_dict["DISABLE_SERVER_SIDE_CURSORS"] = True
    try:
        statement = statement_quoted(SQL, [5, "x"])
    finally:
        del connection.settings_dict["DISABLE_SERVER_SIDE_CURSORS"]
    assert statement == "SELECT CAST(5 AS integer) + 1, CAST('x' AS text)"
    assert _run(statement) == (6, "x")


def test_placeholders_and_values_must_agree_in_number():
    require_postgres()
    with pytest.raises(ValueError, match="differ in number"):
        statement_quoted(SQL, [1])
