"""Sign-up, cancellation, waitlist, staff moves and event changes, through the services."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from accounts.models import AuditEntry
from events import services
from events.models import Answer, InvalidTransition, Registration
from outbox.models import OutboxMessage
from tests.factories import EventFactory, EventQuestionFactory, EventQuestionOptionFactory, StaffFactory
from tests.support.mail import rendered

pytestmark = pytest.mark.django_db
Status = Registration.Status


def register(event, n, **extra):
    return services.registration_create(
        event=event, full_name=f"Person {n}", email=f"p{n}@example.com", language="en", **extra
    )


def test_registration_create_confirms_while_seats_are_left():
    event = EventFactory(capacity=2)
    registration = register(event, 1)
    assert registration.status == Status.CONFIRMED
    assert registration.confirmed_at is not None


def test_registration_create_waitlists_when_full():
    event = EventFactory(capacity=1)
    register(event, 1)
    second = register(event, 2)
    third = register(event, 3)
    assert (second.status, third.status) == (Status.WAITLISTED, Status.WAITLISTED)
    assert services.waitlist_position(registration=third) == 2


def test_confirmation_mail_is_in_the_registrants_language_with_a_calendar():
    event = EventFactory(capacity=5, title_da="Sundhedsdag", title_en="Health day")
    services.registration_create(event=event, full_name="Ida", email="ida@example.com", language="da")
    message = rendered(OutboxMessage.objects.get(to="ida@example.com"))
    assert message.template == "events/email/registration_confirmed"
    assert message.subject == "Du er tilmeldt: Sundhedsdag"
    assert message.attachments[0]["mimetype"] == "text/calendar"
    assert "SUMMARY:Sundhedsdag" in message.attachments[0]["content"]


def test_waitlisted_mail_tells_the_position():
    event = EventFactory(capacity=1)
    register(event, 1)
    register(event, 2)
    message = rendered(OutboxMessage.objects.get(to="p2@example.com"))
    assert message.template == "events/email/registration_waitlisted"
    assert "number 1" in message.body_text


def test_waitlisted_mails_carry_each_exact_position_in_both_parts():
    event = EventFactory(capacity=1)
    for n in range(1, 5):
        register(event, n)
    for n, position in [(2, 1), (3, 2), (4, 3)]:
        message = rendered(OutboxMessage.objects.get(to=f"p{n}@example.com"))
        assert f"you are on the waitlist as number {position}." in message.body_text
        assert f"as number {position}." in message.body_html
        assert "position-" not in message.body_text + message.body_html


def test_a_mail_rendered_before_the_lock_is_rendered_again_when_the_event_changed_meanwhile():
    event = EventFactory(capacity=5, title_en="Health day")
    registration = register(event, 1)
    mail = services._mail_prepare(registration=registration, name="registration_promoted")
    assert services._mail_ready(mail, registration=registration)
    registration.event.title_en = "Health day, new room"
    assert not services._mail_ready(mail, registration=registration)
    registration.refresh_from_db()
    registration.full_name = "Someone Else"
    assert not services._mail_ready(mail, registration=registration)


def test_a_sign_up_near_the_last_seat_writes_the_one_mail_its_seat_decision_owes():
    event = EventFactory(capacity=2)
    register(event, 1)
    register(event, 2)
    register(event, 3)
    templates = dict(OutboxMessage.objects.values_list("to", "template"))
    assert templates == {
        "p1@example.com": "events/email/registration_confirmed",
        "p2@example.com": "events/email/registration_confirmed",
        "p3@example.com": "events/email/registration_waitlisted",
    }


def test_a_sign_up_renders_nothing_and_leaves_its_mail_to_the_worker():
    """The request renders no template: the mail is written with the outcome and the position the seat decision
    gave, and rendered by the worker (here: by the test, as the worker would) in the registrant's language."""
    from django.test.signals import template_rendered

    event = EventFactory(capacity=1, title_da="Sundhedsdag")
    register(event, 1)
    names = []

    def rendered_template(sender, template, **kwargs):
        names.append(template.name)

    template_rendered.connect(rendered_template)
    try:
        registration = services.registration_create(
            event=event, full_name="Ida", email="ida@example.com", language="da"
        )
    finally:
        template_rendered.disconnect(rendered_template)
    assert names == []
    assert registration.signup_position == 1
    mail = OutboxMessage.objects.get(to="ida@example.com")
    assert (mail.template, mail.language, mail.subject, mail.body_text) == (
        "events/email/registration_waitlisted",
        "da",
        "",
        "",
    )
    assert mail.render == {
        "renderer": "events.registration_outcome",
        "arguments": {"registration": registration.pk, "status": "waitlisted", "position": 1},
    }
    rendered(mail)
    assert "Sundhedsdag" in mail.subject
    assert "nummer 1" in mail.body_text
    assert mail.render == {}


def test_a_sign_up_mail_for_someone_erased_before_it_was_rendered_is_never_sent(smtp_sink):
    from outbox.delivery import messages_deliver

    event = EventFactory(capacity=5)
    registration = register(event, 1)
    services.registration_anonymise(registration=registration)
    mail = OutboxMessage.objects.get(template="events/email/registration_confirmed")
    assert messages_deliver(ids=[mail.pk]) == {"sent": 0, "failed": 0, "skipped": 1}
    mail.refresh_from_db()
    assert (mail.status, mail.body_text) == (OutboxMessage.Status.CANCELLED, "")
    assert smtp_sink.messages == []


def test_same_email_cannot_register_twice_in_any_case():
    event = EventFactory()
    services.registration_create(event=event, full_name="A", email="Ann@Example.com", language="en")
    with pytest.raises(services.AlreadyRegistered):
        services.registration_create(event=event, full_name="A", email="ann@example.COM", language="en")
    assert Registration.objects.filter(event=event).count() == 1


def test_a_second_sign_up_is_refused_under_the_lock_and_leaves_nothing_of_itself():
    """On PostgreSQL the statement under the lock meets the unique constraint: the answers and the newsletter
    request made before it in the same transaction are rolled back with it, and the id drawn is not reused."""
    from newsletters.models import ConsentRecord, Subscriber

    event = EventFactory()
    question = EventQuestionFactory(event=event, kind="text")
    first = register(event, 1, answers={question.pk: "first"})
    drawn = Registration.objects.order_by("-pk").first().pk + 50
    with pytest.raises(services.AlreadyRegistered):
        register(event, 1, answers={question.pk: "second"}, newsletter_opt_in=True, registration_id=drawn)
    assert list(Registration.objects.values_list("pk", flat=True)) == [first.pk]
    assert list(Answer.objects.values_list("text", flat=True)) == ["first"]
    assert (Subscriber.objects.count(), ConsentRecord.objects.count()) == (0, 0)
    assert OutboxMessage.objects.count() == 1


def test_a_cancelled_registration_does_not_block_signing_up_again():
    event = EventFactory()
    first = register(event, 1)
    services.registration_cancel(registration=first)
    again = register(event, 1)
    assert again.status == Status.CONFIRMED
    assert again.pk != first.pk


def test_registration_refused_before_the_window_opens():
    event = EventFactory(registration_opens_at=timezone.now() + timedelta(days=1))
    with pytest.raises(services.RegistrationClosed):
        register(event, 1)


def test_registration_refused_after_the_event_started():
    event = EventFactory(starts_at=timezone.now() - timedelta(hours=1))
    with pytest.raises(services.RegistrationClosed):
        register(event, 1)
    assert Registration.objects.count() == 0


def test_registration_refused_for_a_draft():
    event = EventFactory(status="draft")
    with pytest.raises(services.RegistrationClosed):
        register(event, 1)


def test_members_only_event_refuses_a_guest():
    event = EventFactory(audience="members")
    with pytest.raises(services.MembersOnly):
        register(event, 1)


def test_held_member_seats_waitlist_a_non_member():
    event = EventFactory(capacity=3, member_reserved_seats=2, member_reserved_until=timezone.now() + timedelta(days=3))
    assert register(event, 1).status == Status.CONFIRMED
    assert register(event, 2).status == Status.WAITLISTED
    assert register(event, 3, is_member=True).status == Status.CONFIRMED


def test_held_member_seats_are_released_after_the_date():
    event = EventFactory(capacity=2, member_reserved_seats=2, member_reserved_until=timezone.now() + timedelta(days=3))
    waiting = register(event, 1)
    assert waiting.status == Status.WAITLISTED
    promoted = services.member_holds_release(now=timezone.now() + timedelta(days=4))
    waiting.refresh_from_db()
    assert (promoted, waiting.status) == (1, Status.CONFIRMED)


def test_cancelling_a_confirmed_seat_promotes_the_first_waitlisted():
    event = EventFactory(capacity=1)
    first = register(event, 1)
    second = register(event, 2)
    register(event, 3)
    promoted = services.registration_cancel(registration=first)
    assert [r.pk for r in promoted] == [second.pk]
    second.refresh_from_db()
    assert second.status == Status.CONFIRMED
    assert OutboxMessage.objects.filter(to="p2@example.com", template="events/email/registration_promoted").count() == 1


def test_cancelling_a_waitlisted_registration_promotes_nobody():
    event = EventFactory(capacity=1)
    register(event, 1)
    second = register(event, 2)
    register(event, 3)
    assert services.registration_cancel(registration=second) == []
    assert Registration.objects.filter(event=event, status=Status.CONFIRMED).count() == 1


def test_cancelling_twice_raises():
    registration = register(EventFactory(), 1)
    services.registration_cancel(registration=registration)
    with pytest.raises(InvalidTransition):
        services.registration_cancel(registration=registration)


def test_cancel_sends_a_cancellation_mail():
    registration = register(EventFactory(), 1)
    services.registration_cancel(registration=registration)
    assert (
        OutboxMessage.objects.filter(template="events/email/registration_cancelled", to="p1@example.com").count() == 1
    )


def test_staff_promotion_is_logged_with_the_reason():
    event = EventFactory(capacity=1)
    register(event, 1)
    waiting = register(event, 2)
    staff = StaffFactory()
    services.registration_promote(registration=waiting, actor=staff, reason="Speaker")
    waiting.refresh_from_db()
    entry = AuditEntry.objects.get(action="events.registration.promote")
    assert (waiting.status, entry.actor, entry.data) == (Status.CONFIRMED, staff, {"reason": "Speaker"})


def test_staff_move_to_waitlist_gives_the_seat_to_the_next_in_line():
    event = EventFactory(capacity=1)
    first = register(event, 1)
    second = register(event, 2)
    promoted = services.registration_move_to_waitlist(registration=first, actor=StaffFactory(), reason="Duplicate")
    first.refresh_from_db()
    assert [r.pk for r in promoted] == [second.pk]
    assert first.status == Status.WAITLISTED
    assert services.waitlist_position(registration=first) == 1


def test_answers_are_stored():
    event = EventFactory()
    text = EventQuestionFactory(event=event, kind="text")
    yes_no = EventQuestionFactory(event=event, kind="yes_no")
    option = EventQuestionOptionFactory(question__event=event, question__kind="multiple")
    registration = register(event, 1, answers={text.pk: "Vegetarian", yes_no.pk: True, option.question.pk: [option.pk]})
    values = {a.question_id: a.display_value() for a in Answer.objects.filter(registration=registration)}
    assert values == {text.pk: "Vegetarian", yes_no.pk: "Ja", option.question.pk: option.label}


def test_missing_required_answer_saves_nothing():
    event = EventFactory()
    EventQuestionFactory(event=event, kind="text")
    required = EventQuestionFactory(event=event, kind="text", required=True)
    with pytest.raises(services.AnswersInvalid):
        register(event, 1, answers={required.pk: ""})
    assert (Registration.objects.count(), Answer.objects.count(), OutboxMessage.objects.count()) == (0, 0, 0)


def test_an_option_of_another_question_is_refused():
    event = EventFactory()
    question = EventQuestionFactory(event=event, kind="single")
    foreign = EventQuestionOptionFactory()
    with pytest.raises(services.AnswersInvalid):
        register(event, 1, answers={question.pk: foreign.pk})
    assert Registration.objects.count() == 0


def test_check_in_marks_attended_once():
    registration = register(EventFactory(), 1)
    staff = StaffFactory()
    services.registration_check_in(registration=registration, actor=staff)
    registration.refresh_from_db()
    assert registration.attendance == Registration.Attendance.ATTENDED
    with pytest.raises(InvalidTransition):
        services.registration_check_in(registration=registration, actor=staff)


def test_no_shows_are_marked_after_the_event():
    event = EventFactory()
    came = register(event, 1)
    stayed_away = register(event, 2)
    staff = StaffFactory()
    services.registration_check_in(registration=came, actor=staff)
    marked = services.event_no_shows_mark(event=event, actor=staff, now=event.ends_at + timedelta(hours=1))
    stayed_away.refresh_from_db()
    assert (marked, stayed_away.attendance) == (1, Registration.Attendance.NO_SHOW)


def test_no_shows_are_not_marked_before_the_event_ends():
    event = EventFactory()
    with pytest.raises(InvalidTransition):
        services.event_no_shows_mark(event=event, actor=StaffFactory())


def test_event_cancel_tells_every_active_registrant():
    event = EventFactory(capacity=1)
    register(event, 1)
    register(event, 2)
    gone = register(event, 3)
    services.registration_cancel(registration=gone)
    told = services.event_cancel(event=event, actor=StaffFactory(), reason="Speaker ill")
    event.refresh_from_db()
    assert (told, event.status) == (2, "cancelled")
    assert sorted(
        OutboxMessage.objects.filter(template="events/email/event_cancelled").values_list("to", flat=True)
    ) == [
        "p1@example.com",
        "p2@example.com",
    ]


def test_time_change_notifies_registrants_with_a_new_calendar_revision():
    event = EventFactory()
    register(event, 1)
    before = services.event_time_and_place(event)
    event.starts_at += timedelta(hours=1)
    event.ends_at += timedelta(hours=1)
    event.save()
    result = services.event_updated(event=event, before=before, actor=StaffFactory())
    event.refresh_from_db()
    message = OutboxMessage.objects.get(template="events/email/event_changed")
    assert (result["changed"], result["notified"], event.ics_sequence) == (["ends_at", "starts_at"], 1, 1)
    assert "SEQUENCE:1" in message.attachments[0]["content"]


def test_an_unrelated_change_notifies_nobody():
    event = EventFactory()
    register(event, 1)
    before = services.event_time_and_place(event)
    event.summary_en = "New text"
    event.save()
    assert services.event_updated(event=event, before=before, actor=None)["notified"] == 0


def test_raising_the_capacity_promotes_the_waitlist():
    event = EventFactory(capacity=1)
    register(event, 1)
    waiting = register(event, 2)
    before = services.event_time_and_place(event)
    event.capacity = 2
    event.save()
    assert services.event_updated(event=event, before=before, actor=None)["promoted"] == 1
    waiting.refresh_from_db()
    assert waiting.status == Status.CONFIRMED


def test_token_round_trip_and_tampering():
    registration = register(EventFactory(), 1)
    token = services.registration_token(registration)
    assert services.registration_from_token(token).pk == registration.pk
    from django.core import signing

    with pytest.raises(signing.BadSignature):
        services.registration_from_token(token[:-2] + ("aa" if not token.endswith("aa") else "bb"))


@pytest.fixture
def lock_log(monkeypatch):
    """In order: each mail rendered (its template) and each time the event's lock is granted ("lock")."""
    log = []
    render, lock = services.mail_render, services._event_lock

    def rendering(*, template, **kwargs):
        log.append(template.rsplit("/", 1)[-1])
        return render(template=template, **kwargs)

    def locking(*args, **kwargs):
        log.append("lock")
        return lock(*args, **kwargs)

    monkeypatch.setattr(services, "mail_render", rendering)
    monkeypatch.setattr(services, "_event_lock", locking)
    return log


def test_cancelling_an_event_renders_everyones_mail_before_taking_its_lock(lock_log):
    event = EventFactory(capacity=2, title_en="Health day")
    for n in range(1, 4):
        register(event, n)
    lock_log.clear()
    assert services.event_cancel(event=event, actor=StaffFactory(), reason="The venue flooded.") == 3
    assert lock_log == ["event_cancelled"] * 3 + ["lock"]
    messages = OutboxMessage.objects.filter(template="events/email/event_cancelled").order_by("to")
    assert [m.to for m in messages] == ["p1@example.com", "p2@example.com", "p3@example.com"]
    assert all("The venue flooded." in m.body_text for m in messages)
    assert all("STATUS:CANCELLED" in m.attachments[0]["content"] for m in messages)


def test_someone_who_signs_up_between_the_rendering_and_the_lock_is_told_too(monkeypatch, lock_log):
    event = EventFactory(capacity=5)
    register(event, 1)
    lock = services._event_lock

    def sign_up_first(*args, **kwargs):
        monkeypatch.setattr(services, "_event_lock", lock)
        register(event, 2)  # takes the lock itself, in this same transaction
        return lock(*args, **kwargs)

    monkeypatch.setattr(services, "_event_lock", sign_up_first)
    assert services.event_cancel(event=event, actor=StaffFactory()) == 2
    told = OutboxMessage.objects.filter(template="events/email/event_cancelled").values_list("to", flat=True)
    assert sorted(told) == ["p1@example.com", "p2@example.com"]


def one_confirmed_one_waiting(lock_log, **event_fields):
    """An event with one seat, taken, and one person waiting; the lock log starts after their sign-ups."""
    event = EventFactory(capacity=1, **event_fields)
    register(event, 1)
    register(event, 2)
    lock_log.clear()
    return event


def test_a_new_time_is_rendered_for_every_registrant_before_the_lock_with_the_new_calendar(lock_log):
    event = one_confirmed_one_waiting(lock_log)
    sequence = event.ics_sequence
    later = event.starts_at + timedelta(days=1)
    result = services.event_update(
        event=event, actor=StaffFactory(), changes={"starts_at": later, "ends_at": event.ends_at + timedelta(days=1)}
    )
    assert (result["changed"], result["notified"]) == (["ends_at", "starts_at"], 2)
    assert lock_log[:3] == ["event_changed", "event_changed", "lock"]
    assert "event_changed" not in lock_log[3:]
    for message in OutboxMessage.objects.filter(template="events/email/event_changed"):
        assert f"SEQUENCE:{sequence + 1}" in message.attachments[0]["content"]


def test_moving_and_cancelling_in_one_save_renders_the_cancellations_before_the_lock(lock_log):
    event = one_confirmed_one_waiting(lock_log, title_en="Health day")
    sequence = event.ics_sequence
    later = event.starts_at + timedelta(days=7)
    result = services.event_update(
        event=event,
        actor=StaffFactory(),
        changes={"status": "cancelled", "starts_at": later, "ends_at": later + timedelta(hours=3)},
        cancellation_reason="The speaker fell ill.",
    )
    assert result["told"] == 2
    assert lock_log[:3] == ["event_cancelled", "event_cancelled", "lock"]
    assert "event_cancelled" not in lock_log[3:] and "event_changed" not in lock_log
    messages = OutboxMessage.objects.filter(template="events/email/event_cancelled").order_by("to")
    assert [m.to for m in messages] == ["p1@example.com", "p2@example.com"]
    for message in messages:
        assert "The speaker fell ill." in message.body_text
        calendar = message.attachments[0]["content"]
        assert ("STATUS:CANCELLED" in calendar, f"SEQUENCE:{sequence + 1}" in calendar) == (True, True)
        local_start = timezone.localtime(later, ZoneInfo("Europe/Copenhagen"))
        assert f"DTSTART;TZID=Europe/Copenhagen:{local_start:%Y%m%dT%H%M%S}" in calendar
    assert OutboxMessage.objects.filter(template="events/email/event_changed").count() == 0


@pytest.mark.parametrize("seats", [5, 0])
def test_under_the_event_lock_a_sign_up_counts_and_inserts_and_nothing_else(seats):
    """The statements between the lock's grant and the end of the sign-up's transaction: one, which counts the
    seats, decides, and writes the registration and its mail (for the worker to render, with the outcome and the
    waitlist's position from the same count), without savepoints."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.support.services import require_postgres
    from tests.support.sql import statements_run

    require_postgres()  # SQLite has no row locks
    event = EventFactory(capacity=seats)
    register(event, 1)  # the second sign-up finds a row to count
    with CaptureQueriesContext(connection) as queries:
        registration = register(event, 2)
    statements = [query["sql"] for query in queries.captured_queries]
    granted = next(n for n, sql in enumerate(statements_run(queries.captured_queries)) if "FOR UPDATE" in sql)
    under_lock = [
        sql.split()[0] if sql.startswith(("SAVEPOINT", "RELEASE")) else " ".join(sql.split()[:3])
        for sql in statements[granted + 1 :]
    ]
    assert len(under_lock) == 2
    assert under_lock[0].startswith("EXECUTE dlsc_")  # a statement prepared on the session before the lock
    assert under_lock[1] == "RELEASE"  # the test's own transaction makes the sign-up's a savepoint, released at its end
    name = under_lock[0].split()[1].split("(")[0]
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE name = %s", [name])
        assert cursor.fetchone()[0].startswith(f"PREPARE {name} AS WITH counts AS (SELECT")
    assert registration.status == ("confirmed" if seats else "waitlisted")


# capacity, seats held for members (None: no hold), hold still running, confirmed non-members, confirmed members
_SEAT_CASES = [
    (None, None, False, 3, 0),
    (3, None, False, 2, 0),
    (3, None, False, 3, 0),
    (3, None, False, 4, 0),  # already over (capacity lowered): waitlisted, not a negative count
    (5, 2, True, 2, 0),
    (5, 2, True, 3, 0),
    (5, 2, True, 2, 1),
    (5, 2, True, 3, 1),
    (5, 2, True, 3, 2),
    (5, 2, False, 3, 0),
    (5, 2, False, 4, 0),
    (4, 4, True, 0, 3),
    (4, 4, True, 0, 4),
]


@pytest.mark.parametrize("is_member", [False, True])
@pytest.mark.parametrize(("capacity", "held", "running", "others", "members"), _SEAT_CASES)
def test_the_one_statement_decides_each_seat_as_seats_left_does(capacity, held, running, others, members, is_member):
    """On PostgreSQL the seat decision is made in SQL inside the sign-up's one statement under the lock; it gives
    what `seats_left` gives for the same counts, members and holds included."""
    from events.selectors import seats_left
    from tests.factories import EventRegistrationFactory
    from tests.support.services import require_postgres

    require_postgres()
    now = timezone.now()
    hold_end = now + timedelta(days=2) if running else now - timedelta(minutes=1)
    event = EventFactory(
        capacity=capacity, member_reserved_seats=held or 0, member_reserved_until=hold_end if held else None
    )
    for n in range(others + members):
        EventRegistrationFactory(event=event, is_member=n >= others)
    EventRegistrationFactory(event=event, status=Status.WAITLISTED, confirmed_at=None, waitlisted_at=now)
    left = seats_left(event=event, is_member=is_member, confirmed=others + members, confirmed_members=members, now=now)
    expected = Status.CONFIRMED if left is None or left > 0 else Status.WAITLISTED
    registration = register(event, "new", is_member=is_member, now=now)
    assert registration.status == expected
    stored = Registration.objects.get(pk=registration.pk)
    assert (stored.status, stored.is_member) == (expected, is_member)
    assert (stored.confirmed_at is not None, stored.waitlisted_at is not None) == (
        expected == Status.CONFIRMED,
        expected == Status.WAITLISTED,
    )
    mail = OutboxMessage.objects.get(to="pnew@example.com")
    assert mail.template == f"events/email/registration_{expected}"
    mail = rendered(mail)
    if expected == Status.WAITLISTED:
        assert "on the waitlist as number 2." in mail.body_text  # one waits ahead
    assert mail.status == OutboxMessage.Status.QUEUED


def test_a_sign_up_follows_an_event_changed_between_its_preparation_and_the_lock(monkeypatch):
    """The statement is prepared from the event as read before the lock. When staff change the event meanwhile
    (here: the capacity lowered and the title changed), the sign-up decides by the event as it is under the lock,
    and its mail, rendered afterwards, shows it as it is then."""
    from events.models import Event

    event = EventFactory(capacity=2, title_en="Old title")
    register(event, 1)
    real_lock = services._event_lock

    def lock_after_a_change(locked_event, *, action="event"):
        Event.objects.filter(pk=locked_event.pk).update(capacity=1, title_en="New title")
        return real_lock(locked_event, action=action)

    monkeypatch.setattr(services, "_event_lock", lock_after_a_change)
    registration = register(event, 2)
    assert registration.status == Status.WAITLISTED
    mail = rendered(OutboxMessage.objects.get(to="p2@example.com"))
    assert mail.template == "events/email/registration_waitlisted"
    assert "New title" in mail.subject + mail.body_text
    assert "Old title" not in mail.subject + mail.body_text
    assert "on the waitlist as number 1." in mail.body_text


def test_answers_written_before_the_lock_go_with_a_refused_sign_up():
    """The answers are written before the registration they belong to (its foreign key is checked at commit); a
    sign-up refused under the lock leaves neither behind."""
    from events.models import Event

    event = EventFactory(capacity=2)
    question = EventQuestionFactory(event=event, kind="text", required=True)
    register(event, 1, answers={question.pk: "First"})
    with pytest.raises(services.AlreadyRegistered):
        register(event, 1, answers={question.pk: "Again"})
    assert list(Answer.objects.values_list("text", flat=True)) == ["First"]
    Event.objects.filter(pk=event.pk).update(status=Event.Status.CANCELLED)
    with pytest.raises(services.RegistrationClosed):
        register(event, 2, answers={question.pk: "Late"})
    assert list(Answer.objects.values_list("text", flat=True)) == ["First"]


def _read_as_the_form(event):
    """The event as the sign-up view reads it (`event_for_signup`): with its row version and a drawn id."""
    from django.contrib.auth.models import AnonymousUser

    from events.selectors import event_for_signup

    return event_for_signup(slug=event.slug, user=AnonymousUser())


def register_as_the_form(event, n, **extra):
    read = _read_as_the_form(event)
    return register(read, n, registration_id=read.registration_id_drawn, **extra)


@pytest.mark.parametrize("seats", [5, 0])
def test_a_sign_up_read_as_the_form_reads_it_takes_the_lock_and_decides_in_one_round_trip(seats):
    """On PostgreSQL, with the event read by `event_for_signup` (its row version with it), the lock and the deciding
    statement go in one round trip: nothing comes back to Python between the grant and the decision."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.support.services import require_postgres
    from tests.support.sql import statements_run

    require_postgres()
    event = EventFactory(capacity=seats)
    register_as_the_form(event, 1)
    read = _read_as_the_form(event)
    assert read.row_version is not None and read.registration_id_drawn is not None
    with CaptureQueriesContext(connection) as queries:
        registration = register(read, 2, registration_id=read.registration_id_drawn)
    run = statements_run(queries.captured_queries)
    granted = next(n for n, sql in enumerate(run) if "FOR UPDATE" in sql)
    assert run[granted].startswith("SELECT set_config('lock_timeout'")
    assert "WITH counts AS (SELECT" in run[granted].split("FOR UPDATE", 1)[1]  # the decision, after the lock
    assert [" ".join(sql.split()[:1]) for sql in run[granted + 1 :]] == ["RELEASE"]  # the test's own savepoint
    assert registration.status == ("confirmed" if seats else "waitlisted")
    assert (registration.pk, Registration.objects.get(email="p2@example.com").pk) == (read.registration_id_drawn,) * 2
    mail = OutboxMessage.objects.get(to="p2@example.com")
    assert mail.template == f"events/email/registration_{registration.status}"


def test_a_sign_up_whose_event_changed_after_the_form_read_it_decides_by_the_event_under_the_lock():
    """The statement sent with the lock writes nothing when the event's row is not the version read before it (here
    the capacity lowered to the one seat taken): the sign-up then decides the usual way, by the event as it is."""
    from events.models import Event

    event = EventFactory(capacity=2, title_en="Old title")
    register_as_the_form(event, 1)
    read = _read_as_the_form(event)
    Event.objects.filter(pk=event.pk).update(capacity=1, title_en="New title")
    registration = register(read, 2, registration_id=read.registration_id_drawn)
    assert registration.status == Status.WAITLISTED
    assert list(Registration.objects.filter(email="p2@example.com").values_list("status", flat=True)) == ["waitlisted"]
    mails = OutboxMessage.objects.filter(to="p2@example.com")
    assert [mail.template for mail in mails] == ["events/email/registration_waitlisted"]
    mail = rendered(mails.get())
    assert "New title" in mail.subject + mail.body_text
    assert "on the waitlist as number 1." in mail.body_text


def test_a_sign_up_whose_event_closed_after_the_form_read_it_is_refused_and_leaves_nothing():
    from events.models import Event

    event = EventFactory(capacity=5)
    question = EventQuestionFactory(event=event, kind="text", required=True)
    read = _read_as_the_form(event)
    Event.objects.filter(pk=event.pk).update(status=Event.Status.CANCELLED)
    with pytest.raises(services.RegistrationClosed):
        register(read, 1, registration_id=read.registration_id_drawn, answers={question.pk: "Late"})
    assert (Registration.objects.count(), Answer.objects.count(), OutboxMessage.objects.count()) == (0, 0, 0)


def test_a_second_sign_up_read_as_the_form_reads_it_is_refused_with_the_lock_and_leaves_nothing():
    event = EventFactory(capacity=5)
    question = EventQuestionFactory(event=event, kind="text", required=True)
    register_as_the_form(event, 1, answers={question.pk: "First"})
    with pytest.raises(services.AlreadyRegistered):
        register_as_the_form(event, 1, answers={question.pk: "Again"}, newsletter_opt_in=True)
    assert list(Answer.objects.values_list("text", flat=True)) == ["First"]
    assert (Registration.objects.count(), OutboxMessage.objects.count()) == (1, 1)


def test_the_lock_hold_of_a_sign_up_read_as_the_form_reads_it_is_logged_from_the_grant(
    caplog, django_capture_on_commit_callbacks
):
    """bench/signup_race.py reads `events.lock_hold`: one line per sign-up, timed from the lock's grant (PostgreSQL's
    clock) to the commit as the process saw it, and to the end of the deciding statement in the database."""
    import logging

    from tests.support.services import require_postgres

    require_postgres()
    event = EventFactory(capacity=5)
    with caplog.at_level(logging.DEBUG, logger="events.lock_hold"), django_capture_on_commit_callbacks(execute=True):
        register_as_the_form(event, 1)
    lines = [record.getMessage() for record in caplog.records if record.name == "events.lock_hold"]
    assert len(lines) == 1
    action, milliseconds, in_database = lines[0].split()
    assert action == "registration_create"
    assert 0 < float(in_database) < float(milliseconds) < 10_000


def test_behind_a_pooler_a_sign_up_sends_its_lock_and_statement_together_as_text():
    """Where sessions are shared (DB_TRANSACTION_POOLING), nothing is prepared: the lock and the deciding statement
    still go in one round trip, as text."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.support.services import require_postgres

    require_postgres()
    event = EventFactory(capacity=1)
    connection.settings_dict["DISABLE_SERVER_SIDE_CURSORS"] = True
    try:
        with CaptureQueriesContext(connection) as queries:
            first, second = register_as_the_form(event, 1), register_as_the_form(event, 2)
    finally:
        del connection.settings_dict["DISABLE_SERVER_SIDE_CURSORS"]
    assert (first.status, second.status) == (Status.CONFIRMED, Status.WAITLISTED)
    together = [query["sql"] for query in queries.captured_queries if "FOR UPDATE" in query["sql"]]
    assert len(together) == 2
    assert all("EXECUTE" not in sql and "WITH counts AS (SELECT" in sql for sql in together)
    assert services.waitlist_position(registration=second) == 1


def test_a_second_sign_up_is_told_apart_by_the_statement_without_an_error_in_the_database():
    """The statement meets the one-per-email index with ON CONFLICT DO NOTHING: it writes neither the registration
    nor its mail and says so, so a double click leaves no error in PostgreSQL's log and the transaction goes on."""
    from django.db import transaction

    from tests.support.services import require_postgres

    require_postgres()
    event = EventFactory(capacity=5)
    register_as_the_form(event, 1)
    read = _read_as_the_form(event)
    now = timezone.now()
    again = Registration(
        pk=read.registration_id_drawn,
        event=read,
        full_name="Person 1",
        email="p1@example.com",
        language="en",
        consent_at=now,
        created_at=now,
    )
    seat_count = services._SeatCount(event=read, registration=again, now=now)
    statement = services._registration_insert_statement(registration=again, seat_count=seat_count, now=now)
    with transaction.atomic():
        with pytest.raises(services.AlreadyRegistered):
            services._registration_insert_deciding(registration=again, statement=statement, now=now)
        # No savepoint was rolled back to: a failed statement would have ended the transaction here.
        assert list(Registration.objects.values_list("email", flat=True)) == ["p1@example.com"]
        assert OutboxMessage.objects.count() == 1


def test_a_sign_up_mail_has_its_own_message_id_times_and_the_sender_as_configured_now(settings):
    """The sign-up statement's mail part is built once per process with the values every such mail shares written
    into it; the address, the sender (a setting, which may change), the Message-ID and the times stay its own."""
    from tests.support.services import require_postgres

    require_postgres()
    event = EventFactory(capacity=5)
    settings.DEFAULT_FROM_EMAIL = "DLSC <first@cluster.example>"
    register_as_the_form(event, 1)
    settings.DEFAULT_FROM_EMAIL = "DLSC <events@dlsc.example>"
    register_as_the_form(event, 2)
    mails = list(OutboxMessage.objects.order_by("to"))
    assert [(m.to, m.from_email, m.language) for m in mails] == [
        ("p1@example.com", "DLSC <first@cluster.example>", "en"),
        ("p2@example.com", "DLSC <events@dlsc.example>", "en"),
    ]
    assert mails[0].message_id.endswith("@cluster.example")
    assert mails[1].message_id.endswith("@dlsc.example")
    assert mails[0].created_at < mails[1].created_at and mails[1].next_attempt_at >= mails[1].created_at
    assert [(m.subject, m.headers, m.attachments, m.status, m.attempts, m.dedupe_key) for m in mails] == [
        ("", {}, [], "queued", 0, None)
    ] * 2


def test_the_statement_writes_empty_null_and_yes_no_values_into_its_text_and_stores_every_value_as_given():
    """A registration's empty, null and yes/no values are written into the statement's text (a shape of their own)
    and the rest are parameters; either way each column holds what the person gave."""
    from tests.factories import UserFactory
    from tests.support.services import require_postgres

    require_postgres()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.support.sql import statements_run

    event = EventFactory(capacity=5)
    user = UserFactory()
    now = timezone.now()
    with CaptureQueriesContext(connection) as queries:
        guest = register_as_the_form(event, "guest", now=now)
    deciding = next(sql for sql in statements_run(queries.captured_queries) if "WITH counts AS" in sql)
    assert "CAST('' AS varchar(120))" in deciding  # the empty role
    assert "CAST(false AS boolean)" in deciding and "CAST(NULL AS bigint)" in deciding  # no opt-in, no user
    read = _read_as_the_form(event)
    member = services.registration_create(
        event=read,
        full_name="  Ida Holm ",
        email="Ida@Example.com",
        language="da",
        organisation_name="Holm Lab",
        job_title="Chemist",
        invoice_address={"invoice_address": "Vej 1", "invoice_postcode": "8000", "invoice_city": "Aarhus"},
        user=user,
        is_member=True,
        newsletter_opt_in=True,
        registration_id=read.registration_id_drawn,
        now=now,
    )
    columns = [
        *("full_name", "email", "language", "organisation_name", "job_title", "user_id", "organisation_id"),
        *("invoice_address", "invoice_postcode", "invoice_city", "invoice_cvr", "is_member", "status"),
        *("newsletter_opt_in", "newsletter_opt_in_at", "consent_at", "created_at", "cancelled_at", "anonymised_at"),
    ]
    stored = {row["email"]: row for row in Registration.objects.values(*columns)}
    assert stored["pguest@example.com"] == {
        **dict.fromkeys(columns),
        "full_name": "Person guest",
        "email": "pguest@example.com",
        "language": "en",
        **dict.fromkeys(["organisation_name", "job_title", *services.INVOICE_ADDRESS_FIELDS], ""),
        "is_member": False,
        "status": "confirmed",
        "newsletter_opt_in": False,
        "consent_at": now,
        "created_at": now,
    }
    assert stored["ida@example.com"] == {
        **dict.fromkeys(columns),
        "full_name": "Ida Holm",
        "email": "ida@example.com",
        "language": "da",
        "organisation_name": "Holm Lab",
        "job_title": "Chemist",
        "user_id": user.pk,
        "invoice_address": "Vej 1",
        "invoice_postcode": "8000",
        "invoice_city": "Aarhus",
        "invoice_cvr": "",
        "is_member": True,
        "status": "confirmed",
        "newsletter_opt_in": True,
        "newsletter_opt_in_at": now,
        "consent_at": now,
        "created_at": now,
    }
    assert (guest.pk, member.pk) == (
        Registration.objects.get(email="pguest@example.com").pk,
        read.registration_id_drawn,
    )
