"""Seats under a rush: many threads, each with its own PostgreSQL connection, call the services at once."""

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.utils import timezone

from events import services
from events.models import Registration
from events.selectors import event_for_signup
from outbox.models import OutboxMessage
from tests.factories import EventFactory
from tests.support.services import require_postgres

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
THREADS = 40  # PostgreSQL here allows 100 connections, shared with other test runs
Status = Registration.Status


def run_concurrently(jobs):
    """Run every job on a pool of threads released together; each thread closes its connection at the end."""
    barrier = threading.Barrier(THREADS)
    lock = threading.Lock()
    pending = list(jobs)
    results, errors = [], []

    def worker():
        barrier.wait()
        try:
            while True:
                with lock:
                    if not pending:
                        return
                    job = pending.pop()
                try:
                    results.append(job())
                except Exception as exc:
                    errors.append(exc)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        for future in [pool.submit(worker) for _ in range(THREADS)]:
            future.result()
    return results, errors


def signup(event, n, *, as_the_form=False):
    """One sign-up for `event`; `as_the_form`: with the event read in the thread as the sign-up view reads it (its
    row version and a drawn id with it), so that the lock and the deciding statement go in one round trip."""

    def sign_up():
        read, drawn = event, None
        if as_the_form:
            read = event_for_signup(slug=event.slug, user=AnonymousUser())
            drawn = read.registration_id_drawn
        return services.registration_create(
            event=read, full_name=f"Racer {n}", email=f"racer{n}@example.com", language="en", registration_id=drawn
        )

    return sign_up


@pytest.mark.parametrize("as_the_form", [False, True])
def test_300_simultaneous_signups_for_100_seats(as_the_form):
    require_postgres()
    event = EventFactory(capacity=100)
    results, errors = run_concurrently(signup(event, n, as_the_form=as_the_form) for n in range(300))
    statuses = Counter(Registration.objects.filter(event=event).values_list("status", flat=True))
    assert errors == []
    assert len(results) == 300
    assert statuses == {Status.CONFIRMED: 100, Status.WAITLISTED: 200}
    positions = sorted(
        services.waitlist_position(registration=r) for r in Registration.objects.filter(status=Status.WAITLISTED)
    )
    assert positions == list(range(1, 201))


def test_cancellations_during_a_rush_never_overbook_and_promote_in_order_once():
    require_postgres()
    event = EventFactory(capacity=100)
    for n in range(150):
        signup(event, n)()
    confirmed = list(Registration.objects.filter(event=event, status=Status.CONFIRMED).order_by("pk")[:10])
    waitlist_order = list(
        Registration.objects.filter(event=event, status=Status.WAITLISTED)
        .order_by("waitlisted_at", "pk")
        .values_list("pk", flat=True)
    )
    jobs = [lambda r=r: services.registration_cancel(registration=r) for r in confirmed]
    jobs += [signup(event, n, as_the_form=n % 2 == 0) for n in range(1000, 1050)]
    results, errors = run_concurrently(jobs)
    assert errors == []
    promoted = [registration.pk for result in results if isinstance(result, list) for registration in result]
    assert promoted == waitlist_order[:10]
    assert Registration.objects.filter(event=event, status=Status.CONFIRMED).count() == 100
    promoted_mails = Counter(
        OutboxMessage.objects.filter(template="events/email/registration_promoted").values_list("to", flat=True)
    )
    assert len(promoted_mails) == 10
    assert set(promoted_mails.values()) == {1}


def test_reminder_runs_at_the_same_time_write_each_reminder_once():
    require_postgres()
    event = EventFactory(starts_at=timezone.now() + timedelta(hours=20))
    earlier = timezone.now() - timedelta(days=3)
    for n in range(30):
        services.registration_create(
            event=event, full_name=f"R {n}", email=f"rem{n}@example.com", language="da", now=earlier
        )
    results, errors = run_concurrently([services.reminders_send_due for _ in range(THREADS)])
    assert errors == []
    assert sum(results) == 30
    assert OutboxMessage.objects.filter(template="events/email/reminder").count() == 30
