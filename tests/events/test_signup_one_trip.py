"""A sign-up with nothing to write but its decision (no answers, no newsletter request), made outside any
transaction as the view makes it: the event's lock, the deciding statement and the commit go to PostgreSQL in one
round trip, as a transaction of their own. These tests run without the test case's wrapping transaction, as a
request does."""

import logging

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection

from common.locks import LockBusy
from events import services
from events.models import Answer, Event, Registration
from events.selectors import event_for_signup
from outbox.models import OutboxMessage
from tests.factories import EventFactory, EventQuestionFactory
from tests.support.locks import RowHolder, elsewhere
from tests.support.mail import rendered
from tests.support.services import require_postgres

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
Status = Registration.Status


@pytest.fixture(autouse=True)
def _postgres():
    require_postgres()


def read_as_the_form(event):
    return event_for_signup(slug=event.slug, user=AnonymousUser())


def register(read, n, **extra):
    return services.registration_create(
        event=read,
        full_name=f"Person {n}",
        email=f"p{n}@example.com",
        language="en",
        registration_id=read.registration_id_drawn,
        **extra,
    )


class LockingTexts:
    """The texts that take the event's lock, each with whether the driver was in autocommit when it was sent (then
    no BEGIN went before it, and PostgreSQL commits the text as one transaction)."""

    def __init__(self):
        self.sent = []

    def __call__(self, execute, sql, params, many, context):
        if sql.startswith("SELECT set_config('lock_timeout'"):
            self.sent.append(connection.connection.autocommit)
        return execute(sql, params, many, context)


@pytest.mark.parametrize(("seats", "status"), [(5, Status.CONFIRMED), (1, Status.WAITLISTED)])
def test_a_sign_up_with_nothing_else_to_write_is_decided_and_committed_in_one_round_trip(seats, status):
    event = EventFactory(capacity=seats)
    register(read_as_the_form(event), 1)
    read = read_as_the_form(event)
    texts = LockingTexts()
    with connection.execute_wrapper(texts):
        registration = register(read, 2)
    assert texts.sent == [True]
    assert (connection.in_atomic_block, connection.get_autocommit()) == (False, True)
    assert (registration.pk, registration.status) == (read.registration_id_drawn, status)
    assert registration.signup_position == (None if status == Status.CONFIRMED else 1)
    # Committed, and the event's lock released, by the time the call returns.
    assert elsewhere("SELECT id FROM events_event WHERE id = %s FOR UPDATE NOWAIT", [event.pk]) == [(event.pk,)]
    assert elsewhere("SELECT status FROM events_registration WHERE email = %s", ["p2@example.com"]) == [(status,)]
    mail = rendered(OutboxMessage.objects.get(to="p2@example.com"))
    assert mail.template == f"events/email/registration_{status}"
    if status == Status.WAITLISTED:
        assert "on the waitlist as number 1." in mail.body_text


def test_answers_and_a_newsletter_request_are_written_in_one_transaction_with_the_decision():
    from newsletters.models import Subscriber

    asking, other = EventFactory(capacity=5), EventFactory(capacity=5)
    question = EventQuestionFactory(event=asking, kind="text", required=True)
    texts = LockingTexts()
    with connection.execute_wrapper(texts):
        first = register(read_as_the_form(asking), 1, answers={question.pk: "First"})
        second = register(read_as_the_form(other), 2, newsletter_opt_in=True)
    # Each lock sent inside its sign-up's transaction, which commits after it: the event's for the first; the
    # subscriber's, then the event's for the second.
    assert texts.sent == [False, False, False]
    assert (first.status, second.status) == (Status.CONFIRMED, Status.CONFIRMED)
    assert list(Answer.objects.values_list("registration__email", "text")) == [("p1@example.com", "First")]
    assert list(Subscriber.objects.values_list("email", "status")) == [("p2@example.com", "pending")]


def test_a_sign_up_whose_event_changed_after_the_read_decides_by_the_event_under_the_lock():
    """The statement sent with the lock writes nothing when the event's row is not the version read: its own
    transaction ends with the lock released, and the sign-up decides in a transaction by the event as it is."""
    event = EventFactory(capacity=2, title_en="Old title")
    register(read_as_the_form(event), 1)
    read = read_as_the_form(event)
    Event.objects.filter(pk=event.pk).update(capacity=1, title_en="New title")
    texts = LockingTexts()
    with connection.execute_wrapper(texts):
        registration = register(read, 2)
    assert texts.sent == [True, False]
    assert registration.status == Status.WAITLISTED
    assert list(Registration.objects.filter(email="p2@example.com").values_list("status", flat=True)) == ["waitlisted"]
    mail = rendered(OutboxMessage.objects.get(to="p2@example.com"))
    assert "New title" in mail.subject + mail.body_text
    assert "on the waitlist as number 1." in mail.body_text


def test_a_sign_up_whose_event_closed_after_the_read_is_refused_and_leaves_nothing():
    event = EventFactory(capacity=5)
    read = read_as_the_form(event)
    Event.objects.filter(pk=event.pk).update(status=Event.Status.CANCELLED)
    with pytest.raises(services.RegistrationClosed):
        register(read, 1)
    assert (Registration.objects.count(), OutboxMessage.objects.count()) == (0, 0)


def test_a_second_sign_up_is_refused_and_leaves_nothing_and_no_transaction_open():
    event = EventFactory(capacity=5)
    register(read_as_the_form(event), 1)
    with pytest.raises(services.AlreadyRegistered):
        register(read_as_the_form(event), 1)
    assert (connection.in_atomic_block, connection.get_autocommit()) == (False, True)
    assert (Registration.objects.count(), OutboxMessage.objects.count()) == (1, 1)


def test_a_sign_up_that_cannot_get_the_lock_is_busy_and_leaves_nothing(settings):
    settings.DB_LOCK_TIMEOUT_MS = 50
    event = EventFactory(capacity=5)
    read = read_as_the_form(event)
    with RowHolder(Event, event.pk), pytest.raises(LockBusy):
        register(read, 1)
    assert (Registration.objects.count(), OutboxMessage.objects.count()) == (0, 0)
    assert register(read_as_the_form(event), 1).status == Status.CONFIRMED


def test_the_lock_hold_of_a_sign_up_in_one_round_trip_is_logged_once_from_the_grant(caplog):
    event = EventFactory(capacity=5)
    with caplog.at_level(logging.DEBUG, logger="events.lock_hold"):
        register(read_as_the_form(event), 1)
    lines = [record.getMessage() for record in caplog.records if record.name == "events.lock_hold"]
    assert len(lines) == 1
    action, milliseconds, in_database = lines[0].split()
    assert action == "registration_create"
    assert 0 < float(in_database) < float(milliseconds) < 10_000


def test_a_guest_sign_up_through_the_form_goes_in_one_round_trip(client):
    event = EventFactory(capacity=5)
    data = {"full_name": "Ada Lovelace", "email": "ada@example.com", "organisation_name": "Analytical", "consent": "on"}
    texts = LockingTexts()
    with connection.execute_wrapper(texts):
        response = client.post(f"/en/events/{event.slug}/register/", data)
    assert response.status_code == 302
    assert texts.sent == [True]
    assert list(Registration.objects.values_list("email", "status")) == [("ada@example.com", "confirmed")]
    assert list(OutboxMessage.objects.values_list("to", "template")) == [
        ("ada@example.com", "events/email/registration_confirmed")
    ]


def test_a_paid_seat_and_its_mail_are_handed_on_once_the_sign_up_has_committed(monkeypatch):
    """What follows the commit (the mail to the workers, a paid seat to billing) is handed on when the one round trip
    has committed: the registration and its mail are there for every other connection by then."""
    handed = []

    def seen_elsewhere(what, ids):
        table = "events_registration" if what == "billing" else "outbox_outboxmessage"
        found = elsewhere(f"SELECT count(*) FROM {table} WHERE id = ANY(%s)", [list(ids)])  # noqa: S608
        handed.append((what, list(ids), found))

    monkeypatch.setattr(services, "registration_billing_later", lambda ids: seen_elsewhere("billing", ids))
    monkeypatch.setattr(services, "mails_publish_after_commit", lambda *, ids: seen_elsewhere("mail", ids))
    event = EventFactory(capacity=5, price_dkk=450)
    registration = register(read_as_the_form(event), 1)
    mail = OutboxMessage.objects.get(to="p1@example.com")
    assert handed == [("mail", [mail.pk], [(1,)]), ("billing", [registration.pk], [(1,)])]
