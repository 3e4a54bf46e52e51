"""The one way to take a row lock. It refuses to run outside a transaction (a lock outside one is released at
once and guards nothing) and sets PostgreSQL's `lock_timeout` for the rest of the transaction, so a lock that is
not granted in time raises `LockBusy` instead of waiting without end. The web answers `LockBusy` with a
translated "busy, try again" page (503 with Retry-After, `common.middleware.LockBusyMiddleware`); a task lets it
propagate and is retried."""

from django.conf import settings
from django.db import OperationalError, connections, router
from django.db.models import Model, QuerySet
from django.utils.translation import gettext_lazy as _

from common.compiled import Compiled, NotCompilable
from common.errors import DomainError

LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE for a lock not granted within lock_timeout


class LockOutsideTransaction(RuntimeError):
    """A row lock was asked for with no transaction open: a programming error, never a user's."""


class CommitInsideTransaction(RuntimeError):
    """A text that commits itself was sent inside a transaction, which it would not end: a programming error."""


class LockBusy(DomainError):
    message = _("The site is busy with this right now. Please try again in a moment.")


def is_lock_timeout(error: BaseException) -> bool:
    """True when a database error (or what it wraps) is PostgreSQL refusing a lock after lock_timeout."""
    while error is not None:
        if getattr(error, "pgcode", None) == LOCK_NOT_AVAILABLE:
            return True
        error = error.__cause__
    return False


def _prepare(queryset: QuerySet, timeout_ms: int | None) -> str:
    alias = queryset.db if queryset._db else router.db_for_write(queryset.model)
    connection = connections[alias]
    if not connection.in_atomic_block:
        raise LockOutsideTransaction(f"a row lock on {queryset.model.__name__} needs transaction.atomic()")
    if connection.vendor == "postgresql":
        timeout = settings.DB_LOCK_TIMEOUT_MS if timeout_ms is None else timeout_ms
        with connection.cursor() as cursor:
            # SET LOCAL lasts until the transaction ends; the lock helper is the only place that sets it.
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [f"{int(timeout)}ms"])
    return alias


def locked(queryset: QuerySet, *, skip_locked: bool = False, of: tuple = (), timeout_ms: int | None = None):
    """`queryset.select_for_update(...)` inside the current transaction, with the lock timeout set.

    The queryset is evaluated by the caller; a lock timeout during evaluation surfaces as `OperationalError`,
    which the web and `lock_one` turn into `LockBusy`. With `skip_locked`, rows held by others are skipped and
    nothing waits (the outbox's claim and the sweeps)."""
    _prepare(queryset, timeout_ms)
    return queryset.select_for_update(skip_locked=skip_locked, of=of)


def lock_one(target: Model | QuerySet, *, timeout_ms: int | None = None, **filters):
    """Lock and return one row: a model instance (reloaded fresh), or the first row of a queryset with `filters`
    (None when there is none). Raises `LockBusy` when the lock is not granted within the timeout."""
    if isinstance(target, Model) and (compiled := _instance_lock_sql(target, timeout_ms=timeout_ms)) is not None:
        alias, query, sql = compiled
        rows = _locked_fetch(alias, sql)
        if not rows:
            raise type(target).DoesNotExist(f"{type(target).__name__} {target.pk} is gone")
        return query.instances(alias, rows)[0]
    if isinstance(target, Model):
        queryset, filters = type(target)._default_manager.filter(pk=target.pk), {}
    else:
        queryset = target
    try:
        # Only the row itself is locked: a default ordering across a relation (a registration's "event", a
        # meeting's slot) joins that table, and without `of` its row would be locked too, or refused outright on
        # the nullable side of an outer join.
        row = locked(queryset, timeout_ms=timeout_ms, of=("self",)).filter(**filters).first()
    except OperationalError as error:
        if is_lock_timeout(error):
            raise LockBusy from error
        raise
    if isinstance(target, Model) and row is None:
        raise type(target).DoesNotExist(f"{type(target).__name__} {target.pk} is gone")
    return row


# A model instance's lock, compiled once per model and sent with the timeout in one round trip: building the
# query took longer than running it, and every seat change (a sign-up, a cancellation) starts with one.
_instance_locks: dict = {}  # {model: Compiled}
_instance_locks_refused: set = set()


def _instance_lock_query(model) -> Compiled:
    def build(pk):
        queryset = model._default_manager.filter(pk=pk).select_for_update(of=("self",))
        return (queryset if queryset.ordered else queryset.order_by("pk"))[:1]  # as `first()` asks

    if model not in _instance_locks:
        _instance_locks[model] = Compiled(build, pk=-730_201)
    return _instance_locks[model]


def _instance_lock_sql(
    instance: Model, *, timeout_ms: int | None, commit: bool = False
) -> tuple[str, Compiled, str] | None:
    """For an instance's lock on PostgreSQL: its database, its compiled query (the same query as the generic path)
    and the text that sets the lock timeout and runs that query, prepared on the session, in one round trip. None
    where the generic path is taken: another database, a key that is not an integer, or a model whose manager reads
    more than its fields (its query cannot be compiled; remembered). The text is for a transaction open already, or
    with `commit`, for one that it is itself."""
    if not isinstance(instance.pk, int) or type(instance) in _instance_locks_refused:
        return None
    alias = router.db_for_write(type(instance), instance=instance)
    connection = connections[alias]
    if connection.vendor != "postgresql":
        return None
    if commit and not connection.get_autocommit():
        raise CommitInsideTransaction(f"a lock on {type(instance).__name__} that commits needs no transaction open")
    if not commit and not connection.in_atomic_block:
        raise LockOutsideTransaction(f"a row lock on {type(instance).__name__} needs transaction.atomic()")
    query = _instance_lock_query(type(instance))
    try:
        statement = query.statement_prepared(alias, pk=instance.pk)
    except NotCompilable:
        _instance_locks_refused.add(type(instance))
        return None
    timeout = int(settings.DB_LOCK_TIMEOUT_MS if timeout_ms is None else timeout_ms)
    # Both statements quoted already (the second prepared on the session): sent as they are, in one trip.
    return alias, query, f"SELECT set_config('lock_timeout', '{timeout}ms', true); {statement}"


def _locked_fetch(alias: str, sql: str) -> list[tuple]:
    """Run a text that takes a row lock and fetch the rows of its last statement; a lock not granted is LockBusy."""
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall()
    except OperationalError as error:
        if is_lock_timeout(error):
            raise LockBusy from error
        raise


# Set by `lock_one_then(..., mark_granted=True)` for the rest of the transaction: when the lock was granted, in
# seconds since the epoch (PostgreSQL's clock_timestamp()), for a statement that reports it.
LOCK_GRANTED_SETTING = "dlsc.lock_granted"
_GRANTED_MARK = "SELECT set_config('dlsc.lock_granted', CAST(extract(epoch FROM clock_timestamp()) AS text), true)"


def lock_one_then(
    instance: Model, statement: str, *, timeout_ms: int | None = None, mark_granted: bool = False, commit: bool = False
):
    """Lock an instance's row as `lock_one` does and run `statement` as soon as the lock is granted, in the same
    round trip; return the statement's rows. None where that cannot be done (not PostgreSQL, a model whose lock is
    not compiled): the caller takes `lock_one`'s path.

    With `commit`, called with no transaction open (autocommit, outside `transaction.atomic()`), the lock and the
    statement are a transaction of their own that ends in the same round trip: PostgreSQL runs the statements of
    one text as one transaction, commits it after the last (which releases the lock) and rolls all of it back if one
    fails. For a caller with nothing else to write in that transaction; its on-commit hooks run at once.

    `statement` is complete SQL (quoted, or an EXECUTE of a statement prepared on the session). It runs with a
    snapshot taken after the grant (PostgreSQL's READ COMMITTED takes one for each statement of the text), so it
    sees what the lock's previous holders committed; it must itself check that the row is still as the caller read
    it before the lock (its version: `xmin` and `ctid`), since nothing in Python looks at the locked row in between.
    The row's absence is such a change. With `mark_granted`, LOCK_GRANTED_SETTING is set right after the grant."""
    compiled = _instance_lock_sql(instance, timeout_ms=timeout_ms, commit=commit)
    if compiled is None:
        return None
    alias, _query, sql = compiled
    if mark_granted:
        sql += f"; {_GRANTED_MARK}"
    return _locked_fetch(alias, f"{sql}; {statement}")
