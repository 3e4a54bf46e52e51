"""Writes on events and registrations. Seats change only here, inside one transaction holding a row lock on the
event, so concurrent sign-ups, cancellations and promotions are serialised per event and never overbook."""

import copy
import functools
import logging
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import ClassVar

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext_lazy as _

from accounts.audit import audit_record
from common.compiled import stand_in_places, values_placed
from common.errors import DomainError
from common.locks import LOCK_GRANTED_SETTING, lock_one, lock_one_then, locked
from common.prepared import statement_quoted
from events.billing import registration_billing_later, seat_price
from events.calendars import ics_attachment
from events.matchmaking.services import participant_withdraw
from events.models import ANONYMISED_EMAIL_DOMAIN, Answer, Event, InvalidTransition, Profile, Question, Registration
from events.selectors import ROW_VERSION_SQL, confirmed_counts, event_questions, seats_left, waitlist_position
from newsletters.models import ConsentRecord
from newsletters.subscriptions import subscription_request
from outbox.api import (
    dedupe_keys_taken,
    mail_enqueue_later,
    mail_enqueue_rendered,
    mail_later_insert_sql,
    mail_render,
    mail_withdraw,
    mails_publish_after_commit,
)

Status = Registration.Status
LINK_SIGNING_SALT = "events.registration"
# Changing any of these after publication tells every registrant, with a fresh calendar entry.
TIME_AND_PLACE_FIELDS = ("starts_at", "ends_at", "venue_name_da", "venue_name_en", "venue_address", "online_url")
REMINDER_KEY_PREFIX = "event-reminder:"
# The worker renders a sign-up's mail (outbox.rendering), by this name.
OUTCOME_RENDERER = "events.registration_outcome"
OUTCOME_TEMPLATES = {
    Registration.Status.CONFIRMED: "events/email/registration_confirmed",
    Registration.Status.WAITLISTED: "events/email/registration_waitlisted",
}
# A paid seat's invoice address, given at sign-up when no member organisation pays (events/billing.py).
INVOICE_ADDRESS_FIELDS = ("invoice_address", "invoice_postcode", "invoice_city", "invoice_cvr")
# How long each event lock was held, from granted to commit, in ms at DEBUG: bench/signup_race.py reads it.
lock_hold_log = logging.getLogger("events.lock_hold")


def _start_stamp(starts_at) -> str:
    return f"{starts_at.astimezone(UTC):%Y%m%dT%H%MZ}"


def reminder_key_prefix(*, registration_pk: int, starts_at) -> str:
    """A reminder is owed once per person, start time and offset: when the event moves, it is owed again."""
    return f"{REMINDER_KEY_PREFIX}{registration_pk}:{_start_stamp(starts_at)}:"


class RegistrationError(DomainError):
    """A sign-up that cannot be accepted; `message` is shown to the person as it is."""

    message = _("The registration could not be completed.")


class RegistrationClosed(RegistrationError):
    message = _("Registration for this event is closed.")


class MembersOnly(RegistrationError):
    message = _("This event is for members of the cluster only.")


class AlreadyRegistered(RegistrationError):
    message = _(
        "This email address is already registered for this event. The confirmation we sent has a link to see or "
        "cancel the registration."
    )


class AnswersInvalid(RegistrationError):
    message = _("Please answer the required questions.")


class EventChangedSinceRead(Exception):
    """A sign-up decided on a kept copy of its event (`event_for_signup(kept=True)`) found, under the lock, that the
    event changed since the copy was read (or now asks questions): nothing was written, and the caller starts over
    from a fresh read."""


# --- Tokens -------------------------------------------------------------------------------------------------------


def registration_token(registration: Registration) -> str:
    """The signed token of a registration's link. Not compressed: signing keeps compression only where it shortens
    the token, which it never does for an id, so the tokens are the same as when it was asked for."""
    return signing.dumps({"r": registration.pk}, salt=LINK_SIGNING_SALT)


def registration_from_token(token: str) -> Registration:
    """The registration a signed link names; raises signing.BadSignature or Registration.DoesNotExist."""
    payload = signing.loads(token, salt=LINK_SIGNING_SALT)
    if not isinstance(payload, dict) or not isinstance(payload.get("r"), int):
        raise signing.BadSignature("malformed payload")
    return Registration.objects.select_related("event", "event__hub").get(pk=payload["r"])


def registration_manage_url(registration: Registration) -> str:
    with translation.override(registration.language):
        path = reverse("events:registration", kwargs={"token": registration_token(registration)})
    return settings.SITE_URL + path


# --- Mail -----------------------------------------------------------------------------------------------------------


def _mail_prepare(
    *, registration: Registration, name: str, status: str | None = None, dedupe_key: str | None = None, **extra
) -> dict:
    """One mail about one registration, rendered in the registrant's language, as the outbox row it becomes. A
    confirmed participant's calendar attachment carries the online link; everyone else's does not. `status` renders
    the mail for the state the registration is about to enter; rendering is slow, so callers do it before they lock
    the event where they can (`_mail_write` writes the row)."""
    event = registration.event
    confirmed = (status or registration.status) == Status.CONFIRMED
    if status is not None:
        registration = copy.copy(registration)
        registration.status = status
    attachments = None
    if name in ("registration_confirmed", "registration_promoted", "event_changed", "event_cancelled", "reminder"):
        with translation.override(registration.language):
            attachments = [ics_attachment(event, include_online_link=confirmed)]
    template = f"events/email/{name}"
    subject, body_text, body_html = mail_render(
        template=template,
        language=registration.language,
        context={
            "event": event,
            "registration": registration,
            "manage_url": registration_manage_url(registration),
            "event_url": settings.SITE_URL + _localized_path(event, registration.language),
            "show_online_link": confirmed and bool(event.online_url),
            # A paid seat's confirmation says what the invoice will ask and until when a cancellation is free.
            "price": seat_price(event=event, is_member=registration.is_member) if confirmed else None,
            **extra,
        },
    )
    return {
        "template": template,
        "to": registration.email,
        "language": registration.language,
        "subject": subject,
        "body_text": body_text,
        "body_html": body_html,
        "attachments": attachments,
        "dedupe_key": dedupe_key,
        "state": _mail_state(registration),
    }


def _mail_write(mail: dict):
    """Write a prepared mail into the outbox: one insert. Returns None when its dedupe key was used before."""
    fields = {key: value for key, value in mail.items() if key not in ("state", "position_marker")}
    return mail_enqueue_rendered(**fields)


def _mail_registration(*, registration: Registration, name: str, dedupe_key: str | None = None, **extra):
    return _mail_write(_mail_prepare(registration=registration, name=name, dedupe_key=dedupe_key, **extra))


def _registrants_mails_prepare(*, event: Event, name: str) -> dict[int, dict]:
    """Before the lock: the `name` mail to everyone confirmed or waiting, about `event` as the change under way will
    leave it (an unsaved copy), by registration pk. Rendering hundreds of mails under the event's lock would hold
    every sign-up and cancellation for that event until the last one is written."""
    prepared = {}
    for registration in event.registrations.filter(status__in=[Status.CONFIRMED, Status.WAITLISTED]):
        registration.event = event
        prepared[registration.pk] = _mail_prepare(registration=registration, name=name)
    return prepared


def _registrants_mail(*, registrations: list[Registration], event: Event, name: str, prepared: dict) -> None:
    """Under the lock: write each registrant's mail, as prepared when nothing it shows changed meanwhile, else
    rendered now (someone who signed up since, or an event that moved on)."""
    for registration in registrations:
        registration.event = event
        mail = prepared.get(registration.pk)
        _mail_write(
            mail
            if _mail_ready(mail, registration=registration)
            else _mail_prepare(registration=registration, name=name)
        )


def _waitlisted_mail_prepare(*, registration: Registration) -> dict:
    """The waitlist mail before the position is known: rendered with a marker that `_position_fill` replaces with
    the number the seat decision gives, formatted as the template would have formatted it."""
    marker = f"position-{uuid.uuid4().hex}"
    mail = _mail_prepare(
        registration=registration, name="registration_waitlisted", status=Status.WAITLISTED, position=marker
    )
    mail["position_marker"] = marker
    return mail


def _position_fill(mail: dict, *, position: int) -> dict:
    marker = mail.pop("position_marker")
    with translation.override(mail["language"]):
        number = str(formats.localize(position))
    return {
        **mail,
        "subject": mail["subject"].replace(marker, number),
        "body_text": mail["body_text"].replace(marker, number),
        "body_html": mail["body_html"].replace(marker, number),
    }


def _localized_path(event: Event, language: str) -> str:
    with translation.override(language):
        return event.get_absolute_url()


# --- Sign-up, cancellation and the waitlist -------------------------------------------------------------------------


def _event_lock(event: Event, *, action: str = "event") -> Event:
    """Lock the event's row for the rest of the transaction. The lock lasts until commit, so its hold is timed from
    granted to commit and logged at DEBUG on `events.lock_hold` (off unless asked for, as bench/signup_race.py does)."""
    locked_event = lock_one(event)
    if lock_hold_log.isEnabledFor(logging.DEBUG):
        granted = time.perf_counter()
        transaction.on_commit(lambda: lock_hold_log.debug("%s %.3f", action, (time.perf_counter() - granted) * 1000))
    return locked_event


# Every stored value of an event but the moment it was last saved, which no mail shows.
_MAIL_STATE_FIELDS = [field.attname for field in Event._meta.concrete_fields if field.name != "updated_at"]


def _mail_state(registration: Registration) -> tuple:
    """What a mail about a registration is rendered from: its person and every stored value of its event."""
    event = registration.event
    person = (registration.full_name, registration.email, registration.language)
    return (*person, *(getattr(event, attname) for attname in _MAIL_STATE_FIELDS))


def _mail_ready(mail: dict | None, *, registration: Registration) -> bool:
    """A mail rendered before the lock is written under it only if nothing it shows has changed meanwhile."""
    return mail is not None and mail["state"] == _mail_state(registration)


def _signup_precheck(*, event: Event, email: str, registration_id: int | None) -> int | None:
    """Before the lock: the id the registration will have, so that the statement under the lock is complete before
    it. On PostgreSQL, `registration_id` when the caller drew one (`event_for_signup` does, with the event), else one
    drawn from the table's sequence; an email already registered for the event is refused under the lock, by the
    unique constraint the statement meets (AlreadyRegistered). None where there are no sequences (SQLite in
    development), where the duplicate is refused here."""
    if connection.vendor != "postgresql":
        if Registration.objects.filter(event=event, email=email).exclude(status=Status.CANCELLED).exists():
            raise AlreadyRegistered()
        return None
    if registration_id is not None:
        return registration_id
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s))",
            [Registration._meta.db_table, Registration._meta.pk.column],
        )
        return cursor.fetchone()[0]


def _answers_clean(*, questions: list[Question], answers: dict) -> list[tuple[Question, object]]:
    """Check the answers before any lock is taken. `answers` maps a question pk to a str (text), a bool (yes/no)
    or an option pk or list of option pks (choices); returns (question, value) pairs to write."""
    cleaned, missing = [], []
    for question in questions:
        value = answers.get(question.pk)
        if value is None or value == "" or value == []:
            if question.required:
                missing.append(question)
            continue
        if question.kind == Question.Kind.YES_NO:
            value = bool(value)
        elif question.has_options:
            value = [int(v) for v in value] if isinstance(value, list) else [int(value)]
            valid = {option.pk for option in question.options.all()}
            if not set(value) <= valid or (question.kind == Question.Kind.SINGLE_CHOICE and len(value) > 1):
                raise AnswersInvalid(_("An answer is not one of the choices offered."))
        else:
            value = str(value)
        cleaned.append((question, value))
    if missing:
        raise AnswersInvalid()
    return cleaned


def _answers_write(*, registration: Registration, cleaned: list[tuple[Question, object]]) -> None:
    for question, value in cleaned:
        answer = Answer(registration=registration, question=question)
        if question.kind == Question.Kind.YES_NO:
            answer.yes_no = value
        elif not question.has_options:
            answer.text = value
        answer.save()
        if question.has_options:
            answer.options.set(value)


def _signup_refusal_check(*, event: Event, members_only_allowed: bool, now) -> None:
    """The refusals that follow from the event alone; checked before the lock and again under it."""
    if not event.registration_is_open(now=now):
        raise RegistrationClosed()
    if event.is_members_only and not members_only_allowed:
        raise MembersOnly()


def registration_outcome_render(*, registration: int, status: str, position: int) -> dict | None:
    """The outbox's renderer (OUTCOME_RENDERER) of a sign-up's mail, called by the worker: the outcome `status`
    (and the waitlist `position`) as the seat decision gave them, about the registration and its event as they are
    now. None when the person has been erased meanwhile: the mail is no longer owed."""
    found = Registration.objects.select_related("event", "event__hub").filter(pk=registration).first()
    if found is None or found.anonymised_at is not None:
        return None
    name = "registration_confirmed" if status == Status.CONFIRMED else "registration_waitlisted"
    extra = {"position": position} if status == Status.WAITLISTED else {}
    return _mail_prepare(registration=found, name=name, status=status, **extra)


def _outcome_mail_later(*, registration: Registration, position: int | None) -> None:
    """Where the sign-up is not one statement (SQLite): write its mail for the worker to render."""
    mail_enqueue_later(
        renderer=OUTCOME_RENDERER,
        arguments={"registration": registration.pk, "status": registration.status, "position": position},
        template=OUTCOME_TEMPLATES[registration.status],
        to=registration.email,
        language=registration.language,
    )


def _waitlisted_mail(*, registration: Registration, prepared: dict) -> dict:
    """The mail for a move to the waitlist just made: as prepared before the lock when nothing it shows changed
    meanwhile, else rendered now; with the position the registration has now."""
    if not _mail_ready(prepared, registration=registration):
        prepared = _waitlisted_mail_prepare(registration=registration)
    return _position_fill(prepared, position=waitlist_position(registration=registration))


class _SeatCount:
    """The seat count a sign-up makes under the event's lock, compiled before it: confirmed participants, of whom
    members, and (when the new registration's id is known) how many wait ahead of it should it be waitlisted at
    `now`, as `waitlist_position` orders the waitlist. Called, it runs the count and gives the counts by name;
    `sql` and `params` put it into a larger statement (one row per event that has any registration at all).

    Compiling the query took twice as long as running it, so it is compiled once per process for each of its two
    shapes, with stand-ins where the event, the registration and the moment go."""

    _STAND_INS = {"event": -730_101, "pk": -730_102, "now": datetime(1970, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)}
    _compiled: ClassVar[dict] = {}  # {with the waitlist position: (sql, params, {position: stand-in name})}

    def __init__(self, *, event: Event, registration: Registration, now):
        ahead = registration.pk is not None
        self.names = ["confirmed", "confirmed_members", *(["ahead"] if ahead else [])]
        if ahead not in self._compiled:
            self._compiled[ahead] = self._compile(ahead=ahead)
        self.sql, template, places = self._compiled[ahead]
        values = {"event": event.pk, "pk": registration.pk, "now": connection.ops.adapt_datetimefield_value(now)}
        self.params = values_placed(template, places, values)

    @classmethod
    def _compile(cls, *, ahead: bool) -> tuple[str, tuple, dict]:
        stand_ins = cls._STAND_INS
        counts = {
            "confirmed": Count("pk", filter=Q(status=Status.CONFIRMED)),
            "confirmed_members": Count("pk", filter=Q(status=Status.CONFIRMED, is_member=True)),
        }
        if ahead:
            now = stand_ins["now"]
            earlier = Q(waitlisted_at__lt=now) | Q(waitlisted_at=now, pk__lt=stand_ins["pk"])
            counts["ahead"] = Count("pk", filter=Q(status=Status.WAITLISTED) & earlier)
        query = Registration.objects.filter(event_id=stand_ins["event"]).values("event_id").annotate(**counts)
        sql, params = query.order_by().query.sql_with_params()
        params = [str(param) if isinstance(param, str) else param for param in params]  # a status as its plain value
        prepared = {"event": stand_ins["event"]}
        if ahead:  # the moment and the id go only into the count of those ahead
            prepared["pk"] = stand_ins["pk"]
            prepared["now"] = connection.ops.adapt_datetimefield_value(stand_ins["now"])
        return sql, tuple(params), stand_in_places(params, prepared, what="the seat count")

    def __call__(self) -> dict:
        with connection.cursor() as cursor:
            cursor.execute(self.sql, self.params)
            row = cursor.fetchone()  # none while the event has no registration at all
            names = [column[0] for column in cursor.description]
        found = dict(zip(names, row, strict=True)) if row else {}
        return {name: found.get(name, 0) for name in self.names}


# The registration's columns as `_registration_insert_deciding` writes them; the seat decision sets these three.
_REGISTRATION_FIELDS = Registration._meta.concrete_fields
_DECIDED_COLUMNS = ("status", "waitlisted_at", "confirmed_at")


def _seat_rule(event: Event) -> tuple:
    """What `_registration_insert_statement` takes from the event: when it changes between the statement's building
    and the lock, the statement is built again."""
    return (event.capacity, event.member_reserved_seats, event.member_reserved_until)


def _registration_insert_statement(
    *, registration: Registration, seat_count: _SeatCount, now, version: str | None = None, asks: bool = True
) -> str:
    """On PostgreSQL, with the registration's id drawn: the one statement that, under the event's lock, counts the
    seats, decides, and writes the registration and its mail, so that the lock is held for that round trip and the
    commit only. Built and quoted before the lock, from the event as it was read then (`_seat_rule` tells whether
    it still is). The decision is `seats_left`'s rule written in SQL (a test holds the two together); the mail is
    written for the worker to render, with the outcome and the waitlist position the same count gives.

    With the `version` of the event's row read before the lock (`event_for_signup`'s `row_version`), the statement
    is sent with the lock itself (`lock_one_then`): it writes nothing, and returns no row, unless the row it finds
    under the lock is that version (and, for an event read without questions, `asks` False, unless the event still
    asks none: its form had no place for an answer), and it returns when the lock was granted as a last column."""
    event = registration.event
    left_params = [] if event.capacity is None else [event.capacity]
    held = event.capacity is not None and not registration.is_member and event.member_seats_held(now=now)
    if held:
        left_params.append(event.member_reserved_seats)
    value_params, literals = [], []  # the values that are parameters; the columns whose value is in the text
    for field, _cast, plain in _registration_columns():
        if field.column in _DECIDED_COLUMNS:
            if field.column != "status":
                value_params.append(now)
            continue
        value = field.pre_save(registration, True)
        if value is None or value == "" or type(value) is bool:
            literals.append((field.column, _LITERALS[value]))
        elif plain and isinstance(value, str):  # what get_db_prep_save would give (a choice as its plain value)
            value_params.append(str(value))
        elif plain and isinstance(value, int):
            value_params.append(int(value))
        else:
            value_params.append(field.get_db_prep_save(value, connection))
    mail_sql, mail_params = mail_later_insert_sql(
        renderer=OUTCOME_RENDERER,
        arguments=_OUTCOME_ARGUMENTS,
        templates=OUTCOME_TEMPLATES,
        choose=_OUTCOME_CHOICE,
        to=registration.email,
        language=registration.language,
    )
    sql = _registration_insert_sql(
        seat_sql=seat_count.sql,
        limited=event.capacity is not None,
        held=held,
        mail_sql=mail_sql,
        guarded=version is not None,
        guarded_without_questions=version is not None and not asks,
        literals=tuple(literals),
    )
    guard = [] if version is None else [event.pk, version]
    params = [*seat_count.params, *left_params, *guard, *value_params, *mail_params]
    # Prepared on the session (parsing and planning it took twice as long as running it) and quoted now.
    return statement_quoted(sql, params)


# The outcome mail's renderer arguments, as SQL expressions of `_registration_insert_sql`'s statement.
_OUTCOME_ARGUMENTS = {
    "registration": "(SELECT id FROM registration)",
    "status": "(SELECT status FROM decision)",
    "position": "(SELECT ahead + 1 FROM decision)",
}
# The mail is written only with the registration: none for a second sign-up with the same email.
_OUTCOME_CHOICE = "SELECT decision.status FROM decision, registration"


# An empty, null or yes/no value of a registration's column, as it is written into the statement's text.
_LITERALS = {None: "NULL", "": "''", True: "true", False: "false"}


@functools.lru_cache(maxsize=64)
def _registration_insert_sql(
    *,
    seat_sql: str,
    limited: bool,
    held: bool,
    mail_sql: str,
    guarded: bool,
    guarded_without_questions: bool = False,
    literals: tuple[tuple[str, str], ...],
) -> str:
    """The text of `_registration_insert_statement`'s statement, built once per process for each of its shapes: a
    limited event or not, seats held for members from this person or not, guarded by the event's row version or
    not (and by its asking no question, or not), and the registration's columns whose value is written into the
    text as one of `literals` (column, literal: the empty, null and yes/no ones, which few shapes share). Its
    placeholders take the seat count's parameters, then the seats (and those held), the event's id and row version
    when guarded, the registration's other values (the moment of the decision for each of its two times) and the
    mail's."""
    quote = connection.ops.quote_name
    guard, granted = "", ""
    if guarded:
        events, pk = quote(Event._meta.db_table), quote(Event._meta.pk.column)
        guard = (
            f" WHERE EXISTS (SELECT 1 FROM {events} AS locked WHERE locked.{pk} = %s"  # noqa: S608 (model names)
            f" AND {ROW_VERSION_SQL.format(row='locked')} = %s"
        )
        if guarded_without_questions:
            questions = quote(Question._meta.db_table)
            asked_by = quote(Question._meta.get_field("event").column)
            guard += f" AND NOT EXISTS (SELECT 1 FROM {questions} WHERE {questions}.{asked_by} = locked.{pk})"  # noqa: S608
        guard += ")"
        # When the lock was granted and when the statement had decided and written (PostgreSQL's clock, the commit
        # follows), for the lock's hold in `events.lock_hold`.
        granted = (
            f", current_setting('{LOCK_GRANTED_SETTING}', true), CAST(extract(epoch FROM clock_timestamp()) AS text)"
        )
    left = "1"
    if limited:
        left = "%s - COALESCE(counts.confirmed, 0)"
        if held:
            left += " - GREATEST(0, %s - COALESCE(counts.confirmed_members, 0))"
    in_text = dict(literals)
    values = []
    for field, cast, _plain in _registration_columns():
        if field.column == "status":
            values.append(f"CAST(decision.status AS {cast})")
        elif field.column in _DECIDED_COLUMNS:
            when = Status.WAITLISTED if field.column == "waitlisted_at" else Status.CONFIRMED
            values.append(f"CASE WHEN decision.status = '{when}' THEN CAST(%s AS {cast}) END")
        else:
            values.append(f"CAST({in_text.get(field.column, '%s')} AS {cast})")
    table = quote(Registration._meta.db_table)
    columns = ", ".join(quote(field.column) for field in _REGISTRATION_FIELDS)
    # The unique index events_registration_one_per_email, as ON CONFLICT names it: a second live sign-up with the
    # same email inserts nothing (and no mail), and the statement says so, rather than failing with an error.
    event, email, status = (quote(Registration._meta.get_field(name).column) for name in ("event", "email", "status"))
    one_per_email = f"({event}, (lower({email}))) WHERE NOT ({status} = '{Status.CANCELLED}')"
    return (
        f"WITH counts AS ({seat_sql}), "  # noqa: S608 (names from the models)
        f"decision AS (SELECT CASE WHEN {left} > 0 THEN '{Status.CONFIRMED}' ELSE '{Status.WAITLISTED}' END AS status, "
        f"COALESCE(counts.ahead, 0) AS ahead FROM (SELECT 1) AS one LEFT JOIN counts ON true{guard}), "
        f"registration AS (INSERT INTO {table} ({columns}) SELECT {', '.join(values)} FROM decision "
        f"ON CONFLICT {one_per_email} DO NOTHING RETURNING {quote(Registration._meta.pk.column)} AS id), "
        f"mail AS ({mail_sql}) "
        "SELECT decision.status, decision.ahead, (SELECT id FROM mail), registration.id IS NOT NULL"
        f"{granted} FROM decision LEFT JOIN registration ON true"
    )


# Fields whose str or int value get_db_prep_save gives back as it is (a foreign key's is its target's id).
_PLAIN_FIELDS = {
    *("CharField", "EmailField", "TextField", "SlugField", "ForeignKey"),
    *("AutoField", "BigAutoField", "IntegerField", "BigIntegerField", "SmallIntegerField"),
    *("PositiveIntegerField", "PositiveSmallIntegerField", "PositiveBigIntegerField"),
}


@functools.cache
def _registration_columns() -> tuple[tuple, ...]:
    """The registration's fields with their column types, and whether a str or int value of theirs is its own
    database value (`_PLAIN_FIELDS`), looked up once per process."""
    return tuple(
        (field, field.db_type(connection), field.get_internal_type() in _PLAIN_FIELDS) for field in _REGISTRATION_FIELDS
    )


def _registration_insert_deciding(*, registration: Registration, statement: str, now) -> tuple[int, int]:
    """Run `_registration_insert_statement`'s statement under the event's lock. Sets the registration's status as
    written; returns the id of the mail's outbox row and how many wait ahead of the registration. Raises
    AlreadyRegistered when the email is registered for the event already (the statement wrote nothing)."""
    with connection.cursor() as cursor:
        cursor.execute(statement)
        status, ahead, mail_id, written = cursor.fetchone()
    _registration_decided(registration=registration, status=status, written=written, now=now)
    return mail_id, ahead


def _registration_insert_with_lock(
    *, registration: Registration, statement: str, now, commit: bool = False
) -> tuple[int, int] | None:
    """Take the event's lock and run `_registration_insert_statement`'s statement, guarded by the event's row
    version, in one round trip (with `commit`, as a transaction of its own, committed in that trip). Returns what
    `_registration_insert_deciding` returns, or None when the event's row changed after it was read (or where the
    lock cannot be sent with a statement): the lock may be held then (released, with `commit`), and the caller
    decides the usual way."""
    timed = lock_hold_log.isEnabledFor(logging.DEBUG)
    rows = lock_one_then(registration.event, statement, mark_granted=timed, commit=commit)
    if not rows:
        return None
    status, ahead, mail_id, written, granted, written_at = rows[0]
    if timed and written:
        # From the grant (PostgreSQL's clock, which is the machine's) to the commit as this process sees it, which
        # in a busy machine includes its wait for a CPU after it; and to the end of the deciding statement, before
        # the commit: the hold lies between the two.
        in_database = (float(written_at) - float(granted)) * 1000
        transaction.on_commit(
            lambda: lock_hold_log.debug(
                "registration_create %.3f %.3f", (time.time() - float(granted)) * 1000, in_database
            )
        )
    _registration_decided(registration=registration, status=status, written=written, now=now)
    return mail_id, ahead


def _registration_decided(*, registration: Registration, status: str, written: bool, now) -> None:
    """Give the registration instance the outcome its statement wrote, as stored; AlreadyRegistered when it wrote
    none (the transaction is not in error, and the caller's block rolls back what came before)."""
    if not written:
        raise AlreadyRegistered()
    if status == Status.CONFIRMED:
        registration.confirm(now=now)
    else:
        registration.waitlist(now=now)
    registration._state.adding = False
    registration._state.db = connection.alias


def _registration_insert(*, registration: Registration, seat_count: _SeatCount, now) -> int | None:
    """Under the event's lock, where the id is not drawn beforehand (SQLite): count, decide and insert, one step
    each. Returns how many wait ahead, when the count could tell."""
    counts = seat_count()
    left = seats_left(
        event=registration.event,
        is_member=registration.is_member,
        confirmed=counts["confirmed"],
        confirmed_members=counts["confirmed_members"],
        now=now,
    )
    if left is None or left > 0:
        registration.confirm(now=now)
    else:
        registration.waitlist(now=now)
    try:
        # No savepoint (two round trips under the lock): a duplicate ends the whole transaction anyway.
        registration.save(force_insert=True)
    except IntegrityError as exc:
        raise AlreadyRegistered() from exc
    return counts.get("ahead")


def registration_create(
    *,
    event: Event,
    full_name: str,
    email: str,
    language: str,
    organisation_name: str = "",
    job_title: str = "",
    invoice_address: dict | None = None,
    user=None,
    organisation=None,
    is_member: bool = False,
    members_only_allowed: bool | None = None,
    answers: dict | None = None,
    newsletter_opt_in: bool = False,
    ip_address: str | None = None,
    questions: list[Question] | None = None,
    registration_id: int | None = None,
    now=None,
) -> Registration:
    """Confirm while seats are left (counting seats held for members), otherwise waitlist; mail the outcome.

    Under the row lock on the event only the seat count and the inserts happen, so the count and the insert are one
    step for every concurrent caller; answers, refusals and the newsletter request come before it, and the worker
    renders the mail. On PostgreSQL the unique index on (event, email) refuses a second sign-up in that statement
    (which writes nothing, without an error), and the whole transaction is rolled back; on SQLite a check before
    the lock refuses it.

    `is_member`: the registration counts against the seats held for members (the membership type's "seats held
    for members"); `members_only_allowed`: the person may attend members-only events (the type's "members-only
    events"; the same as `is_member` when not given); `invoice_address`: a paid seat's invoice address by
    INVOICE_ADDRESS_FIELDS name, for a seat no member organisation pays; `questions`: the event's questions with
    their options, as the sign-up form read them (read here when not given); `registration_id`: the id drawn for
    the registration beforehand (`event_for_signup`'s `registration_id_drawn`; drawn here when not given).

    An `event` that is a kept copy (`event_for_signup(kept=True)`, `from_kept`) is trusted only as far as the
    statement under the lock finds its row unchanged: where it does not, nothing is written and
    EventChangedSinceRead is raised, for the caller to start over from a fresh read."""
    now = now or timezone.now()
    if members_only_allowed is None:
        members_only_allowed = is_member
    email = email.strip().lower()
    if questions is None:
        questions = event_questions(event=event)
    cleaned_answers = _answers_clean(questions=questions, answers=answers or {})
    _signup_refusal_check(event=event, members_only_allowed=members_only_allowed, now=now)
    registration = Registration(
        pk=_signup_precheck(event=event, email=email, registration_id=registration_id),
        event=event,
        user=user,
        organisation=organisation,
        full_name=full_name.strip(),
        email=email,
        organisation_name=organisation_name.strip(),
        job_title=job_title.strip(),
        **{field: str((invoice_address or {}).get(field) or "").strip() for field in INVOICE_ADDRESS_FIELDS},
        language=language,
        is_member=is_member,
        consent_at=now,
        newsletter_opt_in=newsletter_opt_in,
        newsletter_opt_in_at=now if newsletter_opt_in else None,
        created_at=now,
    )
    seat_count = _SeatCount(event=event, registration=registration, now=now)
    # PostgreSQL, where the id is drawn beforehand: the whole seat decision is one statement under the lock; sent
    # with the lock itself when the event was read with its row version (`event_for_signup`).
    at_once = registration.pk is not None
    version = getattr(event, "row_version", None) if at_once else None
    # Read without questions (`has_questions` False): the statement also makes sure the event still asks none.
    asks = bool(questions) or getattr(event, "has_questions", True) is not False
    kept_copy = getattr(event, "from_kept", False)  # where the statement finds it out of date, the caller reads again
    if at_once:
        statement, rule = (
            _registration_insert_statement(
                registration=registration, seat_count=seat_count, now=now, version=version, asks=asks
            ),
            _seat_rule(event),
        )
    # Nothing else to write (no answers, no newsletter request) and no transaction open around the call: the lock,
    # the statement and the commit in one round trip, a transaction of their own.
    one_trip = version is not None and not (newsletter_opt_in or cleaned_answers or connection.in_atomic_block)
    decided = None
    if one_trip:
        decided = _registration_insert_with_lock(registration=registration, statement=statement, now=now, commit=True)
        if decided is not None:  # committed: what follows the commit runs at once
            return _signup_decided(registration=registration, event=event, decided=decided)
        if kept_copy:  # nothing written, the form was built from a copy out of date
            raise EventChangedSinceRead()
    with transaction.atomic():
        if newsletter_opt_in:
            # Double opt-in: the newsletter sends its own confirmation mail; nothing is sent before it is confirmed.
            subscription_request(
                email=email,
                name=registration.full_name,
                language=language,
                source=ConsentRecord.Source.EVENT,
                ip_address=ip_address,
            )
        if at_once:
            # Foreign keys are checked at commit, so the answers go in before the row they belong to, and before
            # the lock.
            _answers_write(registration=registration, cleaned=cleaned_answers)
        if version is not None and not one_trip:
            decided = _registration_insert_with_lock(registration=registration, statement=statement, now=now)
            if decided is None and kept_copy:  # rolls back the answers and the request
                raise EventChangedSinceRead()
        if decided is None:  # the lock first, then the checks and the statement, as the event is under it
            event = _event_lock(event, action="registration_create")
            _signup_refusal_check(event=event, members_only_allowed=members_only_allowed, now=now)
            registration.event = event
        if at_once:
            if decided is None:
                if version is not None or _seat_rule(event) != rule:  # the event changed: the statement follows it
                    statement = _registration_insert_statement(
                        registration=registration, seat_count=seat_count, now=now
                    )
                decided = _registration_insert_deciding(registration=registration, statement=statement, now=now)
            return _signup_decided(registration=registration, event=event, decided=decided)
        ahead = _registration_insert(registration=registration, seat_count=seat_count, now=now)
        _answers_write(registration=registration, cleaned=cleaned_answers)
        # The waitlist position the sign-up was given (the mail carries it), from the seat count where it counted it.
        registration.signup_position = None
        if registration.status == Status.WAITLISTED:
            registration.signup_position = waitlist_position(registration=registration) if ahead is None else ahead + 1
        _outcome_mail_later(registration=registration, position=registration.signup_position)
        if registration.status == Status.CONFIRMED and event.is_paid:
            registration_billing_later([registration.pk])
    return registration


def _signup_decided(*, registration: Registration, event: Event, decided: tuple[int, int]) -> Registration:
    """After the statement that decided a sign-up and wrote its mail (`decided`: the mail's id, how many wait
    ahead): the mail handed to the workers and a paid seat to billing once the transaction commits (at once where it
    has), and the waitlist position the sign-up was given (`signup_position`, as its mail carries it)."""
    mail_id, ahead = decided
    mails_publish_after_commit(ids=[mail_id])
    registration.signup_position = ahead + 1 if registration.status == Status.WAITLISTED else None
    if registration.status == Status.CONFIRMED and event.is_paid:
        registration_billing_later([registration.pk])
    return registration


def _waitlist_open(*, event: Event, now) -> bool:
    return event.status == Event.Status.PUBLISHED and event.starts_at > now


def _waitlist_choose(*, event: Event, now, confirmed: int, confirmed_members: int, exclude_pk=None) -> list:
    """Who gets the seats left, from the head of the waitlist. A non-member waiting behind a seat held for members
    is passed over for a member further down, as the hold intends; when even a member could not get a seat,
    nobody can, and the walk stops."""
    waiting = event.registrations.filter(status=Status.WAITLISTED).order_by("waitlisted_at", "pk")
    if exclude_pk is not None:
        waiting = waiting.exclude(pk=exclude_pk)
    chosen = []
    for registration in waiting:
        counts = {"confirmed": confirmed, "confirmed_members": confirmed_members, "now": now}
        if seats_left(event=event, is_member=True, **counts) == 0:
            break
        if seats_left(event=event, is_member=registration.is_member, **counts) == 0:
            continue
        chosen.append(registration)
        confirmed += 1
        confirmed_members += int(registration.is_member)
    return chosen


def _promotion_mails_prepare(
    *, event: Event, now, freed: Registration | None = None, exclude_pk: int | None = None
) -> dict[int, dict]:
    """The promotion mails a seat change is likely to owe, by registration, rendered before the lock from counts
    read without it; `freed` is a confirmed registration about to give up its seat. `_waitlist_fill` renders any
    it finds missing."""
    if not _waitlist_open(event=event, now=now):
        return {}
    confirmed, confirmed_members = confirmed_counts(event=event)
    if freed is not None and freed.status == Status.CONFIRMED:
        confirmed -= 1
        confirmed_members -= int(freed.is_member)
    chosen = _waitlist_choose(
        event=event, now=now, confirmed=confirmed, confirmed_members=confirmed_members, exclude_pk=exclude_pk
    )
    return {
        registration.pk: _mail_prepare(registration=registration, name="registration_promoted", status=Status.CONFIRMED)
        for registration in chosen
    }


def _waitlist_fill(
    *, event: Event, now, exclude_pk: int | None = None, prepared: dict[int, dict] | None = None
) -> list[Registration]:
    """Promote from the head of the waitlist while seats are left. Call only while holding the event lock; pass the
    mails `_promotion_mails_prepare` rendered before it."""
    if not _waitlist_open(event=event, now=now):
        return []
    confirmed, confirmed_members = confirmed_counts(event=event)
    promoted = _waitlist_choose(
        event=event, now=now, confirmed=confirmed, confirmed_members=confirmed_members, exclude_pk=exclude_pk
    )
    for registration in promoted:
        registration.event = event
        registration.confirm(now=now)
        registration.save(update_fields=["status", "confirmed_at"])
        mail = (prepared or {}).get(registration.pk)
        if not _mail_ready(mail, registration=registration):
            mail = _mail_prepare(registration=registration, name="registration_promoted")
        _mail_write(mail)
    if promoted and event.is_paid:
        registration_billing_later([registration.pk for registration in promoted])
    return promoted


def registration_cancel(*, registration: Registration, actor=None, reason: str = "", now=None) -> list[Registration]:
    """Cancel a registration (by its owner's signed link, their account page or staff); a freed seat goes to the
    waitlist at once. Returns the registrations promoted. Raises InvalidTransition when already cancelled.

    The mails are rendered, and matchmaking is withdrawn from, before the event lock is taken."""
    now = now or timezone.now()
    cancelled_mail = _mail_prepare(registration=registration, name="registration_cancelled", status=Status.CANCELLED)
    promotions = {}
    if registration.status == Status.CONFIRMED:  # only a freed seat promotes anyone
        promotions = _promotion_mails_prepare(event=registration.event, now=now, freed=registration)
    with transaction.atomic():
        profile = Profile.objects.filter(registration=registration).first()
        if profile is not None:
            participant_withdraw(profile=profile, by=actor, now=now)
        event = _event_lock(registration.event, action="registration_cancel")
        registration = lock_one(registration)
        registration.event = event
        previous = registration.status
        registration.cancel(now=now)
        registration.save(update_fields=["status", "cancelled_at"])
        audit_record(
            actor=actor,
            action="events.registration.cancel",
            target=registration,
            data={"previous_status": previous, "reason": reason},
        )
        if not _mail_ready(cancelled_mail, registration=registration):
            cancelled_mail = _mail_prepare(registration=registration, name="registration_cancelled")
        _mail_write(cancelled_mail)
        if previous == Status.CONFIRMED and event.is_paid:
            registration_billing_later([registration.pk])  # credited when cancelled before the deadline
        promoted = _waitlist_fill(event=event, now=now, prepared=promotions) if previous == Status.CONFIRMED else []
    return promoted


def registration_anonymise(*, registration: Registration) -> Registration:
    """Strip the person from a registration, keeping what statistics need: event, status, organisation,
    member flag, language and attendance. The answers go (they may say anything). Reusable for retention."""
    with transaction.atomic():
        registration = lock_one(registration)
        registration.user = None
        registration.full_name = ""
        # Unique per event among live rows, so each anonymised row gets an address of its own that reaches no one.
        registration.email = f"anonymised-{registration.pk}{ANONYMISED_EMAIL_DOMAIN}"
        registration.job_title = ""
        for field in INVOICE_ADDRESS_FIELDS:
            setattr(registration, field, "")
        # Marked as retention marks it, so the scheduled run neither counts nor repeats it.
        registration.anonymised_at = timezone.now()
        registration.save(
            update_fields=["user", "full_name", "email", "job_title", *INVOICE_ADDRESS_FIELDS, "anonymised_at"]
        )
        Answer.objects.filter(registration=registration).delete()
    return registration


def registration_promote(*, registration: Registration, actor, reason: str, now=None) -> Registration:
    """Staff give a waitlisted person a seat. This is a deliberate decision and may go beyond the capacity;
    it is logged with the reason."""
    now = now or timezone.now()
    promoted_mail = _mail_prepare(registration=registration, name="registration_promoted", status=Status.CONFIRMED)
    with transaction.atomic():
        event = _event_lock(registration.event, action="registration_promote")
        registration = lock_one(registration)
        if registration.status != Status.WAITLISTED:
            raise InvalidTransition("only a waitlisted registration can be promoted")
        registration.event = event
        registration.confirm(now=now)
        registration.save(update_fields=["status", "confirmed_at"])
        audit_record(actor=actor, action="events.registration.promote", target=registration, data={"reason": reason})
        if not _mail_ready(promoted_mail, registration=registration):
            promoted_mail = _mail_prepare(registration=registration, name="registration_promoted")
        _mail_write(promoted_mail)
        if event.is_paid:
            registration_billing_later([registration.pk])
    return registration


def registration_move_to_waitlist(*, registration: Registration, actor, reason: str, now=None) -> list[Registration]:
    """Staff move a confirmed participant to the end of the waitlist; the seat goes to the next in line."""
    now = now or timezone.now()
    waitlisted_mail = _waitlisted_mail_prepare(registration=registration)
    promotions = _promotion_mails_prepare(
        event=registration.event, now=now, freed=registration, exclude_pk=registration.pk
    )
    with transaction.atomic():
        event = _event_lock(registration.event, action="registration_move_to_waitlist")
        registration = lock_one(registration)
        if registration.status != Status.CONFIRMED:
            raise InvalidTransition("only a confirmed registration can be moved to the waitlist")
        registration.event = event
        registration.waitlist(now=now)
        registration.save(update_fields=["status", "waitlisted_at", "confirmed_at"])
        audit_record(
            actor=actor, action="events.registration.move_to_waitlist", target=registration, data={"reason": reason}
        )
        _mail_write(_waitlisted_mail(registration=registration, prepared=waitlisted_mail))
        return _waitlist_fill(event=event, now=now, exclude_pk=registration.pk, prepared=promotions)


def registration_check_in(*, registration: Registration, actor, now=None) -> Registration:
    with transaction.atomic():
        registration = lock_one(registration)
        registration.mark_attended(now=now)
        registration.save(update_fields=["attendance", "checked_in_at"])
        audit_record(actor=actor, action="events.registration.check_in", target=registration)
    return registration


def event_no_shows_mark(*, event: Event, actor, now=None) -> int:
    """After the event: every confirmed participant who did not check in is a no-show."""
    now = now or timezone.now()
    if event.ends_at > now:
        raise InvalidTransition("no-shows are marked once the event is over")
    with transaction.atomic():
        marked = event.registrations.filter(status=Status.CONFIRMED, attendance=Registration.Attendance.UNKNOWN).update(
            attendance=Registration.Attendance.NO_SHOW
        )
        audit_record(actor=actor, action="events.event.no_shows", target=event, data={"marked": marked})
    return marked


# --- Events -------------------------------------------------------------------------------------------------------


# The status moves staff may make; each goes through the service that keeps its promises (publishing opens
# sign-up, cancelling tells everyone registered). A published event is not taken back to a draft, and a cancelled
# one stays cancelled: people were told.
EVENT_STATUS_MOVES = {
    Event.Status.DRAFT: (Event.Status.PUBLISHED, Event.Status.CANCELLED),
    Event.Status.PUBLISHED: (Event.Status.CANCELLED,),
    Event.Status.CANCELLED: (),
}
EVENT_STATUS_NEW = (Event.Status.DRAFT, Event.Status.PUBLISHED)


def event_statuses_allowed(*, current: str | None) -> list[str]:
    """The statuses an event may have after a save: its own and its moves (a new event: draft or published)."""
    if current is None:
        return list(EVENT_STATUS_NEW)
    return [current, *EVENT_STATUS_MOVES[current]]


def event_status_move_check(*, current: str | None, new: str) -> None:
    """Raise InvalidTransition, with a message for staff, unless an event may go from `current` to `new`."""
    if new in event_statuses_allowed(current=current):
        return
    labels = dict(Event.Status.choices)
    if current is None:
        raise InvalidTransition(_("A new event is a draft or published."))
    raise InvalidTransition(
        _("An event cannot go from “%(current)s” to “%(new)s”.") % {"current": labels[current], "new": labels[new]}
    )


def event_create(*, actor=None, partners=(), event: Event | None = None, **fields) -> Event:
    """Create an event from field values (the demo data), or insert the unsaved `event` a form has built (the
    admin's). A new event is a draft or published."""
    with transaction.atomic():
        event = event if event is not None else Event(**fields)
        event_status_move_check(current=None, new=event.status)
        event.full_clean()
        event.save()
        if partners:
            event.partners.set(partners)
        audit_record(actor=actor, action="events.event.create", target=event, data={"status": event.status})
    return event


def event_publish(*, event: Event, actor) -> Event:
    """A draft goes public: its page is listed and sign-up opens when the event says."""
    with transaction.atomic():
        event = _event_lock(event)
        event.publish()
        event.save(update_fields=["status", "updated_at"])
        audit_record(actor=actor, action="events.event.publish", target=event)
    return event


def event_update(*, event: Event, actor, changes: dict, partners=None, cancellation_reason: str = "", now=None) -> dict:
    """Staff change an event: `changes` maps field names to their new values (`partners`, when given, replaces
    the co-hosts). A status change goes through its service (publishing; cancelling tells everyone registered,
    with `cancellation_reason`); a move the rules forbid raises InvalidTransition and nothing is saved. Registrants
    hear of a new time or place, and the waitlist gets any new seats.

    Returns what happened: the time and place fields that `changed`, how many were `notified` of them, how many
    were `promoted` from the waitlist, and how many were `told` of a cancellation."""
    now = now or timezone.now()
    changes = dict(changes)
    current = Event.objects.get(pk=event.pk)  # as stored, before the lock: what the prepared mails start from
    prepared = _changed_mails_prepare(current=current, changes=changes)
    cancelled_mails = _cancelled_mails_prepare(current=current, changes=changes, reason=cancellation_reason, now=now)
    with transaction.atomic():
        stored = _event_lock(event)
        before = event_time_and_place(stored)
        status = changes.pop("status", stored.status)
        event_status_move_check(current=stored.status, new=status)
        for field, value in changes.items():
            setattr(stored, field, value)
        stored.full_clean()
        stored.save()
        if partners is not None:
            stored.partners.set(partners)
        fields = sorted([*changes, *(["partners"] if partners is not None else [])])
        if fields:
            audit_record(actor=actor, action="events.event.update", target=stored, data={"fields": fields})
        told = 0
        if status == Event.Status.PUBLISHED and stored.status != status:
            stored = event_publish(event=stored, actor=actor)
        elif status == Event.Status.CANCELLED and stored.status != status:
            told = event_cancel(
                event=stored, actor=actor, reason=cancellation_reason, now=now, prepared=cancelled_mails
            )
            stored.refresh_from_db()
        result = event_updated(event=stored, before=before, actor=actor, now=now, prepared=prepared)
    return {**result, "told": told}


def _event_as_changed(current: Event, changes: dict) -> Event | None:
    """An unsaved copy of `current` with `changes` (but its status) applied, or None when they would not validate
    (the update then fails under the lock, and nothing prepared is needed)."""
    future = copy.copy(current)
    for field, value in changes.items():
        if field != "status":
            setattr(future, field, value)
    try:
        future.full_clean()
    except ValidationError:
        return None
    return future


def _changed_mails_prepare(*, current: Event, changes: dict) -> dict[int, dict]:
    """Before the lock: the "time or place changed" mails that an update of a published event will owe, about the
    event as it will be saved. Nothing when its time and place stay, when the status changes too (a cancellation
    has mails of its own, below; a draft being published has nobody to tell), or when the changes would not
    validate."""
    if current.status != Event.Status.PUBLISHED or changes.get("status", current.status) != current.status:
        return {}
    future = _event_as_changed(current, changes)
    if future is None or event_time_and_place(future) == event_time_and_place(current):
        return {}
    future.ics_sequence += 1
    return _registrants_mails_prepare(event=future, name="event_changed")


def _cancelled_mails_prepare(*, current: Event, changes: dict, reason: str, now) -> dict[int, dict]:
    """Before the lock: when an update cancels the event, the cancellation mails about the event as the other
    changes of the same save leave it (event_cancel would otherwise render them under the lock it inherits)."""
    if changes.get("status") != Event.Status.CANCELLED or current.status == Event.Status.CANCELLED:
        return {}
    future = _event_as_changed(current, changes)
    if future is None:
        return {}
    future.cancel(reason=reason, now=now)
    future.ics_sequence += 1
    return _registrants_mails_prepare(event=future, name="event_cancelled")


def event_time_and_place(event: Event) -> dict:
    return {field: getattr(event, field) for field in TIME_AND_PLACE_FIELDS}


def event_updated(*, event: Event, before: dict, actor, now=None, prepared: dict | None = None) -> dict:
    """After staff saved an event: tell every registrant when its time or place changed (with a new calendar
    revision), and give seats to the waitlist when the capacity grew. `prepared`: those mails, rendered before the
    lock (_registrants_mails_prepare)."""
    now = now or timezone.now()
    with transaction.atomic():
        event = _event_lock(event)
        changed = sorted(field for field, value in before.items() if getattr(event, field) != value)
        notified = 0
        if "starts_at" in changed:
            _reminders_withdraw(event=event, starts_at=before["starts_at"])
        if changed and event.status == Event.Status.PUBLISHED:
            event.ics_sequence += 1
            event.save(update_fields=["ics_sequence"])
            audit_record(
                actor=actor, action="events.event.time_or_place_changed", target=event, data={"fields": changed}
            )
            registrations = list(event.registrations.filter(status__in=[Status.CONFIRMED, Status.WAITLISTED]))
            _registrants_mail(registrations=registrations, event=event, name="event_changed", prepared=prepared or {})
            notified = len(registrations)
        promoted = _waitlist_fill(event=event, now=now)
    return {"changed": changed, "notified": notified, "promoted": len(promoted)}


def _reminders_withdraw(*, event: Event, starts_at) -> int:
    """Reminders written for a start the event no longer has (or for an event now cancelled), and not yet sent,
    are not sent."""
    pks = event.registrations.values_list("pk", flat=True)
    return mail_withdraw(
        dedupe_key_prefixes=[reminder_key_prefix(registration_pk=pk, starts_at=starts_at) for pk in pks]
    )


def event_cancel(*, event: Event, actor, reason: str = "", now=None, prepared: dict | None = None) -> int:
    """Cancel the event and tell everyone still registered; returns how many were told. `prepared`: their mails,
    rendered before the lock by a caller that holds it already (event_update); else they are rendered here first."""
    now = now or timezone.now()
    if prepared is None:
        prepared = {}
        cancelled = Event.objects.get(pk=event.pk)
        if cancelled.status != Event.Status.CANCELLED:
            cancelled.cancel(reason=reason, now=now)
            cancelled.ics_sequence += 1
            prepared = _registrants_mails_prepare(event=cancelled, name="event_cancelled")
    with transaction.atomic():
        event = _event_lock(event)
        if event.status == Event.Status.CANCELLED:
            raise InvalidTransition(_("The event is already cancelled."))
        event.cancel(reason=reason, now=now)
        event.ics_sequence += 1
        event.save(update_fields=["status", "cancelled_at", "cancellation_reason", "ics_sequence"])
        audit_record(actor=actor, action="events.event.cancel", target=event, data={"reason": reason})
        _reminders_withdraw(event=event, starts_at=event.starts_at)
        registrations = list(event.registrations.filter(status__in=[Status.CONFIRMED, Status.WAITLISTED]))
        _registrants_mail(registrations=registrations, event=event, name="event_cancelled", prepared=prepared)
        if event.is_paid:
            registration_billing_later([r.pk for r in registrations if r.status == Status.CONFIRMED])
    return len(registrations)


def event_participants_email(*, event: Event, actor, subject: str, message: str, statuses: list[str]) -> int:
    """Staff write to the participants; each copy goes through the outbox in the recipient's language frame."""
    with transaction.atomic():
        registrations = list(event.registrations.filter(status__in=statuses).select_related("event"))
        for registration in registrations:
            _mail_registration(
                registration=registration, name="participants_message", staff_subject=subject, staff_message=message
            )
        audit_record(
            actor=actor,
            action="events.event.email_participants",
            target=event,
            data={"subject": subject, "statuses": statuses, "recipients": len(registrations)},
        )
    return len(registrations)


# --- Periodic work ------------------------------------------------------------------------------------------------


def reminders_send_due(*, now=None) -> int:
    """Write each reminder that is due into the outbox, once per registration, offset and start time (a
    postponed event reminds everyone again before its new start).

    For each upcoming event only the latest reminder moment that has passed is due (a worker that was down for a
    week sends the one-day reminder, not both); only confirmed registrations made before that moment get it. The
    outbox's unique dedupe key makes a second run, or two beat ticks at once, write nothing more."""
    now = now or timezone.now()
    horizon = now + timedelta(hours=max(24 * 90, 1))
    written = 0
    events = Event.objects.filter(status=Event.Status.PUBLISHED, starts_at__gt=now, starts_at__lte=horizon)
    for event in events:
        passed = [(hours, at) for hours, at in event.reminder_due_times() if at <= now]
        if not passed:
            continue
        hours, due_at = min(passed)
        due = event.registrations.filter(status=Status.CONFIRMED, created_at__lt=due_at).values_list("pk", flat=True)
        keys = {pk: f"{reminder_key_prefix(registration_pk=pk, starts_at=event.starts_at)}{hours}" for pk in due}
        taken = dedupe_keys_taken(keys=keys.values())
        for pk in (pk for pk, key in keys.items() if key not in taken):
            with transaction.atomic():
                # The lock keeps a cancellation from slipping in between the status check and the write. It is on
                # this row only, not the event's, so sign-ups go on while the reminder renders; a row another run
                # (or a cancellation) holds is left to it, so concurrent runs never queue behind each other.
                registration = locked(Registration.objects.filter(pk=pk).order_by(), skip_locked=True).first()
                if registration is None or registration.status != Status.CONFIRMED:
                    continue
                prefix = reminder_key_prefix(registration_pk=registration.pk, starts_at=registration.event.starts_at)
                key = f"{prefix}{hours}"
                # A run that held this lock before us has committed its row; skip rendering a mail owed no more.
                if dedupe_keys_taken(keys=[key]):
                    continue
                message = _mail_registration(
                    registration=registration, name="reminder", dedupe_key=key, hours_before=hours
                )
                written += int(message is not None)
    return written


def member_holds_release(*, now=None) -> int:
    """Once seats held for members are released, waitlisted non-members may take them."""
    now = now or timezone.now()
    promoted = 0
    events = Event.objects.filter(
        status=Event.Status.PUBLISHED,
        starts_at__gt=now,
        member_reserved_seats__gt=0,
        member_reserved_until__lte=now,
        registrations__status=Status.WAITLISTED,
    ).distinct()
    for event in events:
        prepared = _promotion_mails_prepare(event=event, now=now)
        with transaction.atomic():
            locked_event = _event_lock(event, action="member_holds_release")
            promoted += len(_waitlist_fill(event=locked_event, now=now, prepared=prepared))
    return promoted
