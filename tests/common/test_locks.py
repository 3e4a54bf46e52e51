"""The row-lock helper: it refuses to lock outside a transaction, gives up after lock_timeout, and the web answers
a lock it could not get with a translated 503 "busy" page, saving nothing."""

import threading
import time

import pytest
from django.db import connection, transaction

from common.errors import DomainError, InvalidTransition
from common.locks import LockBusy, LockOutsideTransaction, lock_one, locked
from events.models import Event, Registration
from tests.factories import EventFactory
from tests.support.locks import RowHolder, elsewhere
from tests.support.services import require_postgres


@pytest.mark.django_db(transaction=True)
def test_a_lock_outside_a_transaction_is_refused():
    event = EventFactory()
    with pytest.raises(LockOutsideTransaction):
        lock_one(event)
    with pytest.raises(LockOutsideTransaction):
        locked(Event.objects.filter(pk=event.pk))


@pytest.mark.django_db
def test_lock_one_returns_the_fresh_row_and_a_missing_row_raises():
    event = EventFactory(capacity=10)
    Event.objects.filter(pk=event.pk).update(capacity=12)
    with transaction.atomic():
        assert lock_one(event).capacity == 12
        assert lock_one(Event.objects.all(), slug="no-such-event") is None
    event.pk = 0
    with transaction.atomic(), pytest.raises(Event.DoesNotExist):
        lock_one(event)


def test_domain_errors_carry_their_translated_message():
    from django.utils import translation

    with translation.override("en"):
        assert str(InvalidTransition()) == "This change is not possible in the current state."
        assert str(DomainError("Plain words")) == "Plain words"
    with translation.override("da"):
        assert str(LockBusy()) == "Siden er optaget af netop dette lige nu. Prøv igen om et øjeblik."


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_lock_not_granted_in_time_raises_busy_and_sets_nothing_beyond_the_transaction(settings):
    require_postgres()
    event = EventFactory()
    with RowHolder(Event, event.pk):
        with pytest.raises(LockBusy), transaction.atomic():
            lock_one(event, timeout_ms=50)
        # The timeout was SET LOCAL: the next transaction on this connection has the default again.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SHOW lock_timeout")
            assert cursor.fetchone()[0] == "0"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("language", "heading"), [("da", "Travlt lige nu"), ("en", "Busy right now")])
def test_a_sign_up_that_cannot_get_the_event_lock_answers_503_busy_and_saves_nothing(
    client, settings, language, heading
):
    require_postgres()
    settings.DB_LOCK_TIMEOUT_MS = 50
    event = EventFactory(capacity=5)
    data = {"full_name": "Ada Lovelace", "email": "ada@example.com", "organisation_name": "Analytical", "consent": "on"}
    with RowHolder(Event, event.pk):
        response = client.post(f"/{language}/events/{event.slug}/register/", data)
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert heading in response.content.decode()
    assert Registration.objects.count() == 0
    # Once the lock is free, the same sign-up goes through.
    response = client.post(f"/{language}/events/{event.slug}/register/", data)
    assert response.status_code == 302
    assert Registration.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["event", "registration"])
def test_an_instance_is_locked_in_one_round_trip_and_read_as_the_orm_reads_it(kind, settings):
    """On PostgreSQL the lock on an instance (its query compiled once per model) goes in the same round trip as the
    lock timeout, and gives back what the ORM would: every field, JSON and times included, locking only its row."""
    from django.test.utils import CaptureQueriesContext

    from tests.factories import EventRegistrationFactory
    from tests.support.sql import statements_run

    require_postgres()
    settings.DB_LOCK_TIMEOUT_MS = 4000
    event = EventFactory(reminder_offsets_hours=[72, 2], capacity=7)
    target = event if kind == "event" else EventRegistrationFactory(event=event, job_title="Chemist")
    model = type(target)
    if kind == "event":
        Event.objects.filter(pk=event.pk).update(capacity=9)
    fresh = model.objects.get(pk=target.pk)
    with transaction.atomic():
        lock_one(target)  # the session's first lock of the model prepares its query (one more round trip, once)
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        locked_row = lock_one(target)
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('lock_timeout')")
            timeout = cursor.fetchone()[0]
    assert len(queries.captured_queries) == 2  # the lock with its timeout, and the check just above
    assert queries.captured_queries[0]["sql"].startswith("SELECT set_config('lock_timeout', '4000ms', true); EXECUTE")
    assert "FOR UPDATE OF" in statements_run(queries.captured_queries)[0]
    assert timeout == "4s"
    fields = [field.attname for field in model._meta.concrete_fields]
    assert {name: getattr(locked_row, name) for name in fields} == {name: getattr(fresh, name) for name in fields}
    assert (locked_row._state.adding, locked_row._state.db) == (False, "default")
    if kind == "event":
        assert (locked_row.capacity, locked_row.reminder_offsets_hours) == (9, [72, 2])


@pytest.mark.django_db
def test_a_model_whose_lock_cannot_be_compiled_is_locked_the_generic_way(monkeypatch):
    """A model whose manager reads more than its fields (an annotation, a join) cannot be locked from a compiled
    query: lock_one falls back to the queryset, before any SQL was sent, and remembers the model."""
    from django.db.models import Count

    from common import locks
    from common.compiled import Compiled

    require_postgres()
    event = EventFactory(capacity=3)
    Event.objects.filter(pk=event.pk).update(capacity=4)
    annotated = Compiled(lambda pk: Event.objects.filter(pk=pk).annotate(n=Count("registrations")), pk=-1)
    monkeypatch.setattr(locks, "_instance_lock_query", lambda model: annotated)
    monkeypatch.setattr(locks, "_instance_locks_refused", set())
    with transaction.atomic():
        assert lock_one(event).capacity == 4
    assert locks._instance_locks_refused == {Event}


class _HolderThatWrites(threading.Thread):
    """Holds an event's lock on its own connection, writes a registration under it, and commits only once another
    session waits for it."""

    def __init__(self, event):
        super().__init__()
        self.event, self.locked = event, threading.Event()

    def run(self):
        from tests.factories import EventRegistrationFactory

        try:
            with transaction.atomic():
                lock_one(self.event)
                EventRegistrationFactory(event=self.event, email="first@example.com")
                self.locked.set()
                with connection.cursor() as cursor:
                    for _ in range(400):
                        cursor.execute(
                            "SELECT count(*) FROM pg_stat_activity WHERE pg_backend_pid() = ANY(pg_blocking_pids(pid))"
                        )
                        if cursor.fetchone()[0]:
                            break
                        time.sleep(0.025)
        finally:
            connection.close()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_statement_sent_with_the_lock_runs_after_the_grant_and_sees_what_the_holder_committed():
    """`lock_one_then` sends the lock and a statement in one round trip; the statement runs once the lock is granted,
    with a snapshot of its own, so it counts the row the previous holder wrote and committed while this one waited."""
    from common.locks import lock_one_then

    require_postgres()
    event = EventFactory(capacity=3)
    holder = _HolderThatWrites(event)
    holder.start()
    assert holder.locked.wait(10)
    count = f"SELECT count(*) FROM events_registration WHERE event_id = {int(event.pk)}"  # noqa: S608
    with transaction.atomic():
        rows = lock_one_then(event, count)
    holder.join(10)
    assert rows == [(1,)]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_statement_sent_with_a_lock_not_granted_in_time_raises_busy_and_marks_the_grant_when_asked():
    from common.locks import LOCK_GRANTED_SETTING, lock_one_then

    require_postgres()
    event = EventFactory()
    with RowHolder(Event, event.pk), pytest.raises(LockBusy), transaction.atomic():
        lock_one_then(event, "SELECT 1", timeout_ms=50)
    with transaction.atomic():
        assert lock_one_then(event, "SELECT 2") == [(2,)]
    before = time.time()
    with transaction.atomic():
        ((granted,),) = lock_one_then(event, f"SELECT current_setting('{LOCK_GRANTED_SETTING}')", mark_granted=True)
    assert before - 1 < float(granted) < time.time() + 1
    with pytest.raises(LockOutsideTransaction):
        lock_one_then(event, "SELECT 1")


def _locked_elsewhere_at_once(event) -> int:
    """From another connection: lock the event's row without waiting and read its capacity; raises when the row is
    still locked."""
    ((capacity,),) = elsewhere("SELECT capacity FROM events_event WHERE id = %s FOR UPDATE NOWAIT", [event.pk])
    return capacity


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_lock_sent_with_its_statement_as_a_transaction_of_its_own_commits_in_the_same_trip():
    """With `commit`, outside any transaction, the lock and the statement are one transaction that PostgreSQL
    commits at the end of the text: in one round trip, sent in autocommit (so no BEGIN goes before it), the
    statement's write is there for everyone and the lock is released when it returns. The lock's query compiles
    outside a transaction too (a locking query is otherwise refused there)."""
    from common import locks

    require_postgres()
    event = EventFactory(capacity=3)
    locks._instance_locks.pop(Event, None)
    sent = []

    def record(execute, sql, params, many, context):
        sent.append((sql, connection.connection.autocommit))
        return execute(sql, params, many, context)

    update = f"UPDATE events_event SET capacity = 7 WHERE id = {int(event.pk)} RETURNING capacity"  # noqa: S608
    with connection.execute_wrapper(record):
        rows = locks.lock_one_then(event, update, commit=True)
    assert rows == [(7,)]
    texts = [(sql, autocommit) for sql, autocommit in sent if not sql.startswith("PREPARE")]
    assert len(texts) == 1
    assert texts[0][0].startswith("SELECT set_config('lock_timeout'") and texts[0][0].endswith(update)
    assert texts[0][1] is True
    assert (connection.in_atomic_block, connection.get_autocommit()) == (False, True)
    assert _locked_elsewhere_at_once(event) == 7


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_lock_sent_as_a_transaction_of_its_own_rolls_all_of_it_back_when_it_fails_or_is_busy():
    from django.db import DataError

    from common.locks import CommitInsideTransaction, lock_one_then

    require_postgres()
    event = EventFactory(capacity=3)
    failing = f"UPDATE events_event SET capacity = 8 WHERE id = {int(event.pk)}; SELECT 1 / 0"  # noqa: S608
    with pytest.raises(DataError):
        lock_one_then(event, failing, commit=True)
    assert _locked_elsewhere_at_once(event) == 3
    with RowHolder(Event, event.pk), pytest.raises(LockBusy):
        busy = f"UPDATE events_event SET capacity = 9 WHERE id = {int(event.pk)}"  # noqa: S608
        lock_one_then(event, busy, commit=True, timeout_ms=50)
    assert lock_one_then(event, "SELECT 2", commit=True) == [(2,)]  # the connection goes on
    assert Event.objects.get(pk=event.pk).capacity == 3
    with pytest.raises(CommitInsideTransaction), transaction.atomic():
        lock_one_then(event, "SELECT 1", commit=True)
