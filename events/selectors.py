"""Reads of events and registrations for pages, feeds, exports and the seat arithmetic."""

import collections
import copy
import datetime
import functools
import os
import time

from django.db import connection
from django.db.models import Count, F, Prefetch, Q, QuerySet, prefetch_related_objects
from django.db.models.functions import TruncDate
from django.utils import timezone

from common.compiled import Compiled
from events.models import Answer, Event, Question, Registration

Status = Registration.Status


def confirmed_counts(*, event: Event) -> tuple[int, int]:
    """(confirmed participants, of whom members)."""
    counts = event.registrations.filter(status=Status.CONFIRMED).aggregate(
        total=Count("pk"), members=Count("pk", filter=Q(is_member=True))
    )
    return counts["total"], counts["members"]


def seats_left(*, event: Event, is_member: bool, confirmed: int, confirmed_members: int, now=None) -> int | None:
    """Seats this person could take now; None means unlimited. Seats held for members and not yet taken by one
    are not available to a non-member until the hold ends."""
    if event.capacity is None:
        return None
    left = event.capacity - confirmed
    if not is_member and event.member_seats_held(now=now):
        left -= max(0, event.member_reserved_seats - confirmed_members)
    return max(left, 0)


def waitlist_position(*, registration: Registration) -> int | None:
    if registration.status != Status.WAITLISTED:
        return None
    ahead = (
        Registration.objects.filter(event_id=registration.event_id, status=Status.WAITLISTED)
        .filter(
            Q(waitlisted_at__lt=registration.waitlisted_at)
            | Q(waitlisted_at=registration.waitlisted_at, pk__lt=registration.pk)
        )
        .count()
    )
    return ahead + 1


def _with_counts(queryset: QuerySet[Event]) -> QuerySet[Event]:
    return queryset.annotate(
        confirmed_count=Count("registrations", filter=Q(registrations__status=Status.CONFIRMED)),
        confirmed_members_count=Count(
            "registrations", filter=Q(registrations__status=Status.CONFIRMED, registrations__is_member=True)
        ),
        waitlist_count=Count("registrations", filter=Q(registrations__status=Status.WAITLISTED)),
    )


def public_events() -> QuerySet[Event]:
    return Event.objects.filter(status__in=[Event.Status.PUBLISHED, Event.Status.CANCELLED]).select_related("hub")


def event_list(*, upcoming: bool = True, hub: str = "", kind: str = "", month: datetime.date | None = None, now=None):
    """Published (and cancelled, marked as such) events, upcoming soonest first or past latest first."""
    now = now or timezone.now()
    queryset = _with_counts(public_events())
    if upcoming:
        queryset = queryset.filter(ends_at__gte=now).order_by("starts_at", "pk")
    else:
        queryset = queryset.filter(ends_at__lt=now).order_by("-starts_at", "-pk")
    if hub:
        queryset = queryset.filter(hub__slug=hub)
    if kind:
        queryset = queryset.filter(kind=kind)
    if month:
        queryset = queryset.filter(starts_at__year=month.year, starts_at__month=month.month)
    return queryset


def upcoming_events(*, limit: int = 3, now=None) -> list[Event]:
    now = now or timezone.now()
    return list(
        _with_counts(public_events().filter(status=Event.Status.PUBLISHED, ends_at__gte=now)).order_by(
            "starts_at", "pk"
        )[:limit]
    )


def event_for_page(*, slug: str, user) -> Event:
    """An event page: drafts only for staff. Raises Event.DoesNotExist."""
    queryset = Event.objects.select_related("hub").prefetch_related("partners")
    if not (user.is_authenticated and user.is_staff):
        queryset = queryset.exclude(status=Event.Status.DRAFT)
    return _with_counts(queryset).get(slug=slug)


# A sign-up's reads, compiled once per process (building them took longer than running them): the event, for staff
# (True, drafts too) and for everyone else, and its questions.
_SLUG_STAND_IN = "0slug-stand-in0"
_signup_event = {
    True: Compiled(lambda slug: Event.objects.filter(slug=slug).order_by()[:2], slug=_SLUG_STAND_IN),
    False: Compiled(
        lambda slug: Event.objects.filter(slug=slug).exclude(status=Event.Status.DRAFT).order_by()[:2],
        slug=_SLUG_STAND_IN,
    ),
}
_event_questions = Compiled(lambda event_id: Question.objects.filter(event_id=event_id), event_id=-730_301)


# A row's version on PostgreSQL, as `event_for_signup` reads it and the sign-up's statement compares it under the lock.
ROW_VERSION_SQL = "CAST({row}.xmin AS text) || ':' || CAST({row}.ctid AS text)"


@functools.cache
def _signup_extra() -> dict[str, tuple[str, list]]:
    """What a sign-up reads with its event, in the same round trip: whether the event asks any question, and on
    PostgreSQL the id the registration will have, drawn from the registrations' sequence, and the version of the
    event's row. Built once per process; never changed by its callers."""
    table = connection.ops.quote_name(Question._meta.db_table)
    event_column = connection.ops.quote_name(Question._meta.get_field("event").column)
    event_id = f"compiled.{connection.ops.quote_name(Event._meta.pk.column)}"
    asks = f"EXISTS (SELECT 1 FROM {table} WHERE {table}.{event_column} = {event_id})"  # noqa: S608 (model names)
    extra = {"has_questions": (asks, [])}
    if connection.vendor == "postgresql":
        sequence = [Registration._meta.db_table, Registration._meta.pk.column]
        extra["registration_id_drawn"] = ("nextval(pg_get_serial_sequence(%s, %s))", sequence)
        events = connection.ops.quote_name(Event._meta.db_table)
        pk = connection.ops.quote_name(Event._meta.pk.column)
        # The version of the row read, so that the statement under the lock can tell whether the row it locked is
        # still this one: an UPDATE writes a new tuple (a new ctid), and its transaction's id (xmin) tells a reused
        # slot from the tuple that was read.
        version = ROW_VERSION_SQL.format(row="version")
        read = f"SELECT {version} FROM {events} AS version WHERE version.{pk} = {event_id}"  # noqa: S608 (model names)
        extra["row_version"] = (f"({read})", [])
    return extra


class _SignupEvents:
    """The events sign-ups were posted to, as last read, kept by this process for `SECONDS` (at most `KEPT` of them),
    with ids drawn ahead for the registrations of sign-ups that take their event from here (`IDS` per round trip).

    A copy is safe to decide on: the statement under the lock writes nothing unless the event's row is still the
    version the copy was read at, and (for a copy read without questions) the event still asks none; the view starts
    over from a fresh read when it does not, or when a copy led to a refusal. Only PostgreSQL reads give a version,
    so only they are kept. A forked process keeps nothing of its parent's (the ids above all)."""

    SECONDS = 60
    KEPT = 256
    IDS = 20

    def __init__(self):
        self.clear()

    def clear(self) -> None:
        self.pid = os.getpid()
        self.events: dict[tuple[str, bool], tuple[float, Event]] = {}
        self.ids: collections.deque[int] = collections.deque()

    def _own(self) -> None:
        if self.pid != os.getpid():
            self.clear()

    def get(self, key: tuple[str, bool]) -> Event | None:
        self._own()
        kept = self.events.get(key)
        if kept is None or time.monotonic() - kept[0] > self.SECONDS:
            return None
        return copy.copy(kept[1])

    def keep(self, key: tuple[str, bool], event: Event) -> None:
        self._own()
        now = time.monotonic()
        if len(self.events) >= self.KEPT:
            self.events = {k: kept for k, kept in self.events.items() if now - kept[0] <= self.SECONDS}
            if len(self.events) >= self.KEPT:
                self.events.clear()
        kept = copy.copy(event)
        kept.registration_id_drawn = None
        self.events[key] = (now, kept)

    def registration_id(self) -> int:
        """An id for a registration, from those this process drew ahead (in one round trip when none is left)."""
        self._own()
        if not self.ids:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                    [Registration._meta.db_table, Registration._meta.pk.column, self.IDS],
                )
                self.ids.extend(sorted(row[0] for row in cursor.fetchall()))
        return self.ids.popleft()


_signup_events = _SignupEvents()


def signup_events_forget() -> None:
    """Forget the events and ids this process keeps for sign-ups (tests start from nothing)."""
    _signup_events.clear()


def event_for_signup(*, slug: str, user, kept: bool = False) -> Event:
    """The event a sign-up form is posted to, by the same rule as its page, without the page's counts and partners
    (the seat count that matters is taken under the lock). Raises Event.DoesNotExist.

    The same round trip sets `has_questions` on the event (so that a sign-up for an event without questions reads
    none) and, on PostgreSQL, `registration_id_drawn`: the id the registration will have, and `row_version`: the
    version of the event's row that was read (both None elsewhere). An id drawn and not used leaves a gap in the
    sequence, as a failed insert does.

    With `kept`, a copy of the event as this process last read it for a sign-up, when it did so less than a minute
    ago (`_SignupEvents`), with an id drawn ahead: `from_kept` is then True on it, and a caller must start over
    with a fresh read where the copy turns out to be out of date (`services.EventChangedSinceRead`) or led to a
    refusal. Every read on PostgreSQL renews the copy."""
    staff = bool(user.is_authenticated and user.is_staff)
    if kept and (event := _signup_events.get((slug, staff))) is not None:
        event.registration_id_drawn = _signup_events.registration_id()
        event.from_kept = True
        return event
    extra = _signup_extra()
    events = _signup_event[staff](model=Event, extra=extra, slug=slug)
    if len(events) != 1:  # the slug is unique: none or one
        raise Event.DoesNotExist(f"no event {slug!r} to sign up for")
    event = events[0]
    event.from_kept = False
    if "registration_id_drawn" not in extra:
        event.registration_id_drawn = event.row_version = None
    else:
        _signup_events.keep((slug, staff), event)
    return event


def event_questions(*, event: Event) -> list[Question]:
    """An event's questions in their order, with their options, as its sign-up form asks them (none read when the
    event was read with `has_questions` False)."""
    has_questions = getattr(event, "has_questions", None)  # 0 or 1 on SQLite
    if has_questions is not None and not has_questions:
        return []
    questions = _event_questions(model=Question, event_id=event.pk)
    for question in questions:
        question.event = event
    prefetch_related_objects(questions, "options")
    return questions


def feed_events(*, hub=None, now=None) -> QuerySet[Event]:
    """Events for a calendar feed: from 30 days back, so a subscribed calendar keeps recent entries."""
    now = now or timezone.now()
    queryset = public_events().filter(ends_at__gte=now - datetime.timedelta(days=30)).order_by("starts_at", "pk")
    if hub is not None:
        queryset = queryset.filter(hub=hub)
    return queryset


def user_registrations(*, user) -> QuerySet[Registration]:
    """A person's registrations: those made while logged in and those made as a guest with the same email."""
    if not user.is_authenticated:
        return Registration.objects.none()
    return (
        Registration.objects.filter(Q(user=user) | Q(email__iexact=user.email))
        .select_related("event", "event__hub")
        .order_by("-event__starts_at", "-pk")
    )


def user_active_registration(*, event: Event, user) -> Registration | None:
    if not user.is_authenticated:
        return None
    return (
        event.registrations.filter(Q(user=user) | Q(email__iexact=user.email)).exclude(status=Status.CANCELLED).first()
    )


def export_registrations(*, event: Event) -> QuerySet[Registration]:
    return (
        event.registrations.exclude(status=Status.CANCELLED)
        .order_by("status", "full_name", "pk")
        .prefetch_related(
            Prefetch("answers", queryset=Answer.objects.select_related("question").prefetch_related("options"))
        )
    )


def checkin_registrations(*, event: Event, query: str = "") -> QuerySet[Registration]:
    queryset = event.registrations.filter(status=Status.CONFIRMED).order_by("full_name", "pk")
    if query:
        queryset = queryset.filter(
            Q(full_name__icontains=query) | Q(email__icontains=query) | Q(organisation_name__icontains=query)
        )
    return queryset


def registrations_by_day(*, event: Event) -> list[dict]:
    """Sign-ups per day (Copenhagen time), with the running total, for the admin chart."""
    rows = (
        event.registrations.annotate(day=TruncDate("created_at", tzinfo=timezone.get_current_timezone()))
        .values("day")
        .annotate(count=Count("pk"))
        .order_by("day")
    )
    total = 0
    result = []
    for row in rows:
        total += row["count"]
        result.append({"day": row["day"], "count": row["count"], "total": total})
    return result


def events_with_seats_left(*, hubs=None, now=None) -> QuerySet[Event]:
    """Published events still to come with a seat free (or no limit): what staff can still fill, for the
    admin index."""
    events = _with_counts(
        Event.objects.filter(status=Event.Status.PUBLISHED, starts_at__gte=now or timezone.now())
    ).filter(Q(capacity__isnull=True) | Q(capacity__gt=F("confirmed_count")))
    if hubs is not None:
        events = events.filter(hub__in=hubs)
    return events
