"""A sign-up takes its event from the copy its process kept of the last read (`event_for_signup(kept=True)`) and
reads nothing before the lock; the statement under the lock makes sure the copy is still the event, and a sign-up
that finds it is not, or that the copy refuses, starts over from a fresh read. Run as requests are: no transaction
around them, so the lock, the statement and the commit are one round trip."""

import os
from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from events import selectors
from events.models import Answer, Event, Registration
from outbox.models import OutboxMessage
from tests.factories import EventFactory, EventQuestionFactory, UserFactory
from tests.support.services import require_postgres

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
Status = Registration.Status


@pytest.fixture(autouse=True)
def _postgres():
    require_postgres()


def guest(n, **extra):
    return {
        "full_name": f"Person {n}",
        "email": f"p{n}@example.com",
        "organisation_name": "Gæst ApS",
        "consent": "on",
        **extra,
    }


def sign_up(client, event, n, language="en", **extra):
    return client.post(f"/{language}/events/{event.slug}/register/", guest(n, **extra))


def statuses(event):
    return dict(Registration.objects.filter(event=event).values_list("email", "status"))


def sent(queries) -> list[str]:
    """What each captured round trip was, by its start. A process's first sign-up also compiles its statements (in
    a transaction of their own) and a session's prepares them: those are left out."""
    kinds = {
        "SELECT set_config('lock_timeout'": "lock",
        "SELECT nextval(": "ids",
        "EXECUTE ": "read",
    }
    return [
        next((kind for start, kind in kinds.items() if query["sql"].startswith(start)), query["sql"][:40])
        for query in queries
        if not query["sql"].startswith("PREPARE ") and query["sql"] not in ("BEGIN", "COMMIT")
    ]


def test_a_sign_up_after_the_first_reads_nothing_before_the_lock(client):
    event = EventFactory(capacity=5)
    with CaptureQueriesContext(connection) as first:
        assert sign_up(client, event, 1).status_code == 302
    with CaptureQueriesContext(connection) as second:
        assert sign_up(client, event, 2).status_code == 302
    with CaptureQueriesContext(connection) as third:
        assert sign_up(client, event, 3).status_code == 302
    # The first reads the event (and draws its registration's id with it); the second draws ids for the next ones.
    assert (sent(first), sent(second), sent(third)) == (["read", "lock"], ["ids", "lock"], ["lock"])
    assert statuses(event) == {f"p{n}@example.com": Status.CONFIRMED for n in (1, 2, 3)}
    assert OutboxMessage.objects.filter(to="p3@example.com").count() == 1


def test_ids_drawn_ahead_are_the_registrations_ids_in_order_and_a_new_batch_follows_the_last():
    event = EventFactory(capacity=50)
    anyone = AnonymousUser()
    selectors.event_for_signup(slug=event.slug, user=anyone)  # kept
    drawn = [
        selectors.event_for_signup(slug=event.slug, user=anyone, kept=True).registration_id_drawn
        for _ in range(selectors._SignupEvents.IDS + 2)
    ]
    assert drawn == sorted(set(drawn))
    assert len(drawn) == selectors._SignupEvents.IDS + 2


def test_the_lowered_capacity_decides_though_the_copy_had_more_seats(client):
    event = EventFactory(capacity=5)
    for n in (1, 2):
        assert sign_up(client, event, n).status_code == 302  # the copy: 5 seats
    Event.objects.filter(pk=event.pk).update(capacity=2)
    with CaptureQueriesContext(connection) as queries:
        response = sign_up(client, event, 3)
    assert response.status_code == 302
    assert statuses(event)["p3@example.com"] == Status.WAITLISTED
    # The copy's statement found another version of the row and wrote nothing; the event was read again, and its
    # statement decided.
    assert sent(queries) == ["lock", "read", "lock"]
    assert OutboxMessage.objects.filter(to="p3@example.com", render__arguments__status="waitlisted").count() == 1
    assert Registration.objects.count() == 3


def test_a_sign_up_closed_since_the_copy_is_refused_with_the_fresh_reason(client):
    event = EventFactory(capacity=5)
    assert sign_up(client, event, 1).status_code == 302
    Event.objects.filter(pk=event.pk).update(registration_closes_at=timezone.now() - timedelta(minutes=1))
    response = sign_up(client, event, 2)
    assert response.status_code == 400
    assert "Registration for this event is closed." in response.content.decode()
    assert list(statuses(event)) == ["p1@example.com"]


def test_a_refusal_by_the_copy_is_not_the_answer_when_the_event_opened_again(client):
    event = EventFactory(capacity=5, registration_closes_at=timezone.now() - timedelta(minutes=1))
    response = sign_up(client, event, 1)
    assert response.status_code == 400  # read, kept, and refused
    Event.objects.filter(pk=event.pk).update(registration_closes_at=timezone.now() + timedelta(days=1))
    response = sign_up(client, event, 2)
    assert response.status_code == 302
    assert statuses(event) == {"p2@example.com": Status.CONFIRMED}


def test_a_question_added_since_the_copy_is_asked_before_anyone_signs_up(client):
    event = EventFactory(capacity=5)
    assert sign_up(client, event, 1).status_code == 302  # kept: asks no question
    question = EventQuestionFactory(event=event, label_en="Allergies?", required=True)
    response = sign_up(client, event, 2)
    assert response.status_code == 400
    assert "Allergies?" in response.content.decode()
    assert list(statuses(event)) == ["p1@example.com"]
    response = sign_up(client, event, 2, **{f"question_{question.pk}": "Nuts"})
    assert response.status_code == 302
    assert Answer.objects.get(registration__email="p2@example.com").text == "Nuts"


def test_a_copy_read_for_staff_is_not_one_for_visitors(client):
    event = EventFactory(capacity=5, status=Event.Status.DRAFT)
    staff = UserFactory(is_staff=True)
    selectors.event_for_signup(slug=event.slug, user=staff)  # kept for staff: drafts are theirs to see
    assert selectors.event_for_signup(slug=event.slug, user=staff, kept=True).from_kept is True
    assert sign_up(client, event, 1).status_code == 404
    assert not Registration.objects.exists()


def test_a_deleted_event_is_not_found_though_a_copy_was_kept(client):
    event = EventFactory(capacity=5)
    assert sign_up(client, event, 1).status_code == 302
    Registration.objects.all().delete()
    OutboxMessage.objects.all().delete()
    Event.objects.filter(pk=event.pk).delete()
    assert sign_up(client, event, 2).status_code == 404
    assert not Registration.objects.exists()


def test_a_copy_is_kept_a_minute_and_not_by_a_forked_process(monkeypatch):
    event = EventFactory(capacity=5)
    anyone = AnonymousUser()
    selectors.event_for_signup(slug=event.slug, user=anyone)
    assert selectors.event_for_signup(slug=event.slug, user=anyone, kept=True).from_kept is True
    monkeypatch.setattr(selectors._SignupEvents, "SECONDS", -1)  # every copy older than its time
    assert selectors.event_for_signup(slug=event.slug, user=anyone, kept=True).from_kept is False
    monkeypatch.undo()
    assert selectors.event_for_signup(slug=event.slug, user=anyone, kept=True).from_kept is True
    pid = os.getpid()
    monkeypatch.setattr(selectors.os, "getpid", lambda: pid + 1)
    assert selectors.event_for_signup(slug=event.slug, user=anyone, kept=True).from_kept is False


def test_a_kept_copy_is_a_copy(client):
    event = EventFactory(capacity=5)
    anyone = AnonymousUser()
    selectors.event_for_signup(slug=event.slug, user=anyone)
    first = selectors.event_for_signup(slug=event.slug, user=anyone, kept=True)
    first.capacity = 1
    second = selectors.event_for_signup(slug=event.slug, user=anyone, kept=True)
    assert (second.capacity, second.registration_id_drawn > first.registration_id_drawn) == (5, True)


def test_what_a_stale_copy_wrote_before_the_lock_is_rolled_back_and_written_once(client):
    event = EventFactory(capacity=5)
    for n in (1, 2):
        assert sign_up(client, event, n).status_code == 302
    Event.objects.filter(pk=event.pk).update(capacity=2)
    # A newsletter request is written in the sign-up's transaction before the lock: the copy's attempt is undone.
    assert sign_up(client, event, 3, newsletter_opt_in="on").status_code == 302
    assert statuses(event)["p3@example.com"] == Status.WAITLISTED
    templates = sorted(OutboxMessage.objects.filter(to="p3@example.com").values_list("template", flat=True))
    assert templates == ["events/email/registration_waitlisted", "newsletters/email/confirm"]


def test_an_email_registered_already_is_told_so_without_reading_the_event_again(client):
    event = EventFactory(capacity=5)
    for n in (1, 2):
        assert sign_up(client, event, n).status_code == 302
    with CaptureQueriesContext(connection) as queries:
        response = sign_up(client, event, 1)
    assert response.status_code == 400
    assert "This email address is already registered for this event." in response.content.decode()
    # The statement found the copy current and the email taken; the page with the message reads the event for itself.
    assert sent(queries)[0] == "lock"
    assert "read" not in sent(queries)
    assert Registration.objects.filter(email="p1@example.com").count() == 1
