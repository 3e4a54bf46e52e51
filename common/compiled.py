"""Queries built once per process and run many times: for the few reads on a hot path (a sign-up, a lock) where
building the query with the ORM took longer than running it.

A `Compiled` query is built with stand-in values, once per database; each run puts the real values where the
stand-ins went and reads model instances as the ORM would (its converters applied). A stand-in that does not reach
the query's parameters as given raises an error when the query is built, never a wrong result."""

from collections.abc import Callable

from django.db import connections, router, transaction
from django.db.models import Model, QuerySet
from django.db.models.expressions import Col

from common.prepared import execute_prepared, statement_quoted


class NotCompilable(RuntimeError):
    """The query cannot be run from a compiled copy faithfully (raised when it is first built, before any SQL)."""


def stand_in_places(params, stand_ins: dict, *, what: str) -> dict[int, object]:
    """Where each of `stand_ins` (name: value) went among a query's compiled `params`, by position (a value may
    go to several). Raises NotCompilable when one did not arrive as given (a `contains` wraps it in %, say)."""
    places = {
        position: name
        for position, param in enumerate(params)
        for name, value in stand_ins.items()
        if type(param) is type(value) and param == value
    }
    if set(places.values()) != set(stand_ins):
        raise NotCompilable(f"{what}: a stand-in did not reach the query's parameters as given")
    return places


def values_placed(params, places: dict[int, object], values: dict) -> list:
    """`params` with the real `values` (by name) where `stand_in_places` found the stand-ins."""
    return [values[places[position]] if position in places else param for position, param in enumerate(params)]


class Compiled:
    """`build(**stand_ins)` gives the queryset: rows of one model, every column one of its fields (no annotations,
    select_related or prefetching). Stand-ins must be values no real query uses (negative ids, odd strings)."""

    def __init__(self, build: Callable[..., QuerySet], **stand_ins):
        self._build = build
        self._stand_ins = stand_ins
        self._compiled: dict[str, tuple] = {}

    def _compile(self, alias: str) -> tuple:
        queryset = self._build(**self._stand_ins)
        compiler = queryset.query.get_compiler(alias)
        # In a transaction, which sends nothing to the database here: a locking query is refused outside one, and
        # may be compiled before a caller runs it as a transaction of its own (`lock_one_then(commit=True)`).
        with transaction.atomic(using=alias):
            sql, params = compiler.as_sql()
        places = stand_in_places(params, self._stand_ins, what=queryset.model.__name__)
        columns = [column for column, _sql, _alias in compiler.select]
        if not all(isinstance(column, Col) and column.target.model is queryset.model for column in columns):
            raise NotCompilable(f"{queryset.model.__name__}: a compiled query reads its model's fields only")
        # What the ORM does to a value read (a JSON field's decoding, say), by position.
        converters = compiler.get_converters(columns)
        attnames = [column.target.attname for column in columns]
        return queryset.model, sql, tuple(params), places, attnames, converters

    def _compiled_for(self, alias: str) -> tuple:
        if alias not in self._compiled:
            self._compiled[alias] = self._compile(alias)
        return self._compiled[alias]

    def statement(self, alias: str, **values) -> tuple[str, list]:
        """The SQL and its parameters with `values` in the stand-ins' places, for a caller that sends it itself."""
        _model, sql, params, places, _attnames, _converters = self._compiled_for(alias)
        return sql, values_placed(params, places, values)

    def statement_prepared(self, alias: str, **values) -> str:
        """`statement` as one string to execute without parameters: prepared on the session where that is done
        (`common.prepared`; parsing and planning a hot read cost as much as running it)."""
        sql, params = self.statement(alias, **values)
        return statement_quoted(sql, params, using=alias)

    def instances(self, alias: str, rows) -> list[Model]:
        """Model instances from rows that `statement` read."""
        model, _sql, _params, _places, attnames, converters = self._compiled_for(alias)
        connection = connections[alias]
        instances = []
        for row in rows:
            values = list(row)
            for position, (functions, expression) in converters.items():
                for function in functions:
                    values[position] = function(values[position], expression, connection)
            instances.append(model.from_db(alias, attnames, values))
        return instances

    def __call__(
        self, *, model: type[Model], extra: dict[str, tuple[str, list]] | None = None, **values
    ) -> list[Model]:
        """Run the query (for rows of `model`, on its database for reads) with `values`, prepared on the session
        where statements are; its rows as instances.

        `extra` reads more in the same round trip: {attribute: (SQL expression, params)}, each set on every
        instance. The expressions see the row's columns as `compiled.<column>`."""
        alias = router.db_for_read(model)
        sql, params = self.statement(alias, **values)
        extra = extra or {}
        if extra:
            quote = connections[alias].ops.quote_name
            columns = ", ".join(f"{expression} AS {quote(name)}" for name, (expression, _params) in extra.items())
            sql = f"SELECT compiled.*, {columns} FROM ({sql}) AS compiled"  # noqa: S608 (expressions from code)
            params = [*(param for _expression, extra_params in extra.values() for param in extra_params), *params]
        with connections[alias].cursor() as cursor:
            execute_prepared(cursor, sql, params, using=alias)
            rows = cursor.fetchall()
        if not extra:
            return self.instances(alias, rows)
        instances = self.instances(alias, [row[: -len(extra)] for row in rows])
        for instance, row in zip(instances, rows, strict=True):
            for name, value in zip(extra, row[-len(extra) :], strict=True):
                setattr(instance, name, value)
        return instances
