"""Statements prepared once per database session, and sent as text where sessions may be shared."""

import datetime
import decimal

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


# Values of every kind the statements carry, with the characters that quoting is about, and their columns' types.
_TRICKY = [
    ("", "text"),
    ("it's", "text"),
    ("''", "text"),
    ("back\\slash\\'", "text"),
    ("æøå Æblegrød ☕ 𝄞", "text"),
    ("--comment", "text"),
    ("$1 $$ dollar", "text"),
    ("%s %% percent", "text"),
    ("line\nbreak\ttab", "text"),
    (0, "integer"),
    (41, "integer"),
    (-5, "integer"),
    (2**62, "bigint"),
    (True, "boolean"),
    (False, "boolean"),
    (None, "text"),
    (datetime.datetime(2026, 12, 6, 3, 4, 5, 678901, tzinfo=datetime.UTC), "timestamptz"),
    (datetime.datetime(2026, 12, 6, 3, 4, 5, tzinfo=datetime.timezone(datetime.timedelta(hours=1))), "timestamptz"),
    (datetime.datetime(2026, 12, 6, 3, 4, 5), "timestamp"),
]


def test_values_are_quoted_as_the_driver_quotes_them_and_arrive_as_given():
    require_postgres()
    values = [value for value, _cast in _TRICKY]
    sql = "SELECT " + ", ".join(f"CAST(%s AS {cast})" for _value, cast in _TRICKY)
    statement = statement_quoted(sql, values)
    with connection.cursor() as cursor:
        driver = cursor.mogrify(f"EXECUTE {_name(statement)}({', '.join(['%s'] * len(values))})", values)
    assert statement == driver.decode()
    assert _run(statement) == tuple(values)


def test_values_of_other_kinds_and_text_with_a_nul_are_left_to_the_driver():
    require_postgres()
    amount = decimal.Decimal("12.50")
    statement = statement_quoted("SELECT CAST(%s AS numeric), CAST(%s AS text)", [amount, "a"])
    assert statement.endswith("(12.50, 'a')")
    assert _run(statement) == (amount, "a")
    with pytest.raises(ValueError, match="NUL"):
        statement_quoted("SELECT CAST(%s AS text)", ["nul\x00here"])
