"""Matchmaking reads, scoped to who asks: a profile sees only its own event's participants and its own meetings."""

import re
from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import Count, Prefetch, Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from events.models import Event, Meeting, MeetingFeedback, MeetingRequest, Profile, Registration, Slot
from events.selectors import event_list

# How long after a meeting's slot ends its two sides may give and change feedback.
FEEDBACK_OPEN_FOR = timedelta(days=14)
WORD = re.compile(r"[\wæøå]{4,}", re.IGNORECASE)


def events_of(*, user, now=None) -> list[Event]:
    """The matchmaking events a person takes part in (a confirmed registration), from a week back, soonest first."""
    if not user.is_authenticated:
        return []
    now = now or timezone.now()
    return list(
        Event.objects.filter(
            matchmaking__enabled=True,
            ends_at__gte=now - timedelta(days=7),
            registrations__user=user,
            registrations__status=Registration.Status.CONFIRMED,
        )
        .select_related("hub")
        .order_by("starts_at", "pk")
        .distinct()
    )


def open_events(*, now=None) -> list[Event]:
    """Published upcoming events with matchmaking on, for the public explanation page."""
    return list(event_list(upcoming=True, now=now).filter(matchmaking__enabled=True, status=Event.Status.PUBLISHED))


def matchmaking_event(*, slug: str) -> Event:
    return _or_404(Event.objects.filter(slug=slug, matchmaking__enabled=True).select_related("matchmaking").first())


def _or_404(obj):
    if obj is None:
        raise Http404
    return obj


def participant_registration(*, event: Event, user) -> Registration:
    """The confirmed registration that lets this user take part in the event's matchmaking, else 404."""
    if not user.is_authenticated:
        raise Http404
    return _or_404(
        Registration.objects.filter(event=event, user=user, status=Registration.Status.CONFIRMED)
        .select_related("organisation")
        .first()
    )


def participant_profile(*, event: Event, user) -> Profile:
    """The asking user's own profile at this event; anyone without one gets 404 on every matchmaking page."""
    if not user.is_authenticated:
        raise Http404
    return _or_404(
        Profile.objects.filter(event=event, user=user, registration__status=Registration.Status.CONFIRMED)
        .select_related("event", "registration", "user")
        .first()
    )


def _profiles(event: Event):
    return (
        Profile.objects.filter(event=event, registration__status=Registration.Status.CONFIRMED)
        .select_related("organisation")
        .prefetch_related("offer_tags", "seek_tags", "segments")
    )


def catalogue(*, viewer: Profile, query: str = "", tag=None, kind: str = "", segment=None):
    profiles = _profiles(viewer.event).exclude(pk=viewer.pk)
    if query:
        profiles = profiles.filter(
            Q(display_name__icontains=query)
            | Q(organisation_name__icontains=query)
            | Q(headline__icontains=query)
            | Q(offers__icontains=query)
            | Q(seeks__icontains=query)
        )
    if tag is not None:
        profiles = profiles.filter(Q(offer_tags=tag) | Q(seek_tags=tag))
    if kind:
        profiles = profiles.filter(kind=kind)
    if segment is not None:
        profiles = profiles.filter(segments=segment)
    return profiles.distinct()


def visible_profile(*, viewer: Profile, pk: int) -> Profile:
    return _or_404(_profiles(viewer.event).filter(pk=pk).first())


@dataclass
class Suggestion:
    profile: Profile
    score: float
    reasons: list[str] = field(default_factory=list)


def _words(text: str) -> set[str]:
    return {w.lower() for w in WORD.findall(text or "")}


def _similarity(a: str, b: str) -> float:
    left, right = _words(a), _words(b)
    return len(left & right) / len(left | right) if left and right else 0.0


def suggestions(*, profile: Profile, limit: int = 10) -> list[Suggestion]:
    """People to meet, best first: one side's offer meets the other's need, by shared tags and by wording."""
    me = _profiles(profile.event).get(pk=profile.pk)
    my_offers, my_seeks = set(me.offer_tags.all()), set(me.seek_tags.all())
    met = set(
        MeetingRequest.objects.filter(Q(sender=me) | Q(recipient=me), status__in=MeetingRequest.LIVE).values_list(
            "sender_id", "recipient_id"
        )
    )
    skip = {pk for pair in met for pk in pair}
    found = []
    for other in _profiles(profile.event).exclude(pk__in=skip | {me.pk}):
        they_offer = set(other.offer_tags.all()) & my_seeks
        they_seek = set(other.seek_tags.all()) & my_offers
        reasons = [_("offers %(tag)s, which you seek") % {"tag": tag.name} for tag in sorted(they_offer, key=str)] + [
            _("seeks %(tag)s, which you offer") % {"tag": tag.name} for tag in sorted(they_seek, key=str)
        ]
        wording = _similarity(other.offers, me.seeks) + _similarity(other.seeks, me.offers)
        if wording >= 0.1:
            reasons.append(_("what they write matches what you write"))
        score = 2 * (len(they_offer) + len(they_seek)) + 5 * wording
        if score > 0:
            found.append(Suggestion(profile=other, score=round(score, 3), reasons=reasons))
    found.sort(key=lambda s: (-s.score, s.profile.display_name, s.profile.pk))
    return found[:limit]


def requests_of(*, profile: Profile) -> tuple[list[MeetingRequest], list[MeetingRequest]]:
    base = MeetingRequest.objects.select_related("sender", "recipient")
    return list(base.filter(recipient=profile)), list(base.filter(sender=profile))


@dataclass
class AgendaItem:
    meeting: Meeting
    slot: Slot
    table: int
    counterpart: Profile
    feedback: str = ""  # "before", "open" or "closed"


def _feedback_state(slot: Slot, now) -> str:
    if now < slot.ends_at:
        return "before"
    return "open" if now < slot.ends_at + FEEDBACK_OPEN_FOR else "closed"


def agenda(*, profile: Profile, now=None) -> list[AgendaItem]:
    """The profile's placed meetings in time order; feedback is open from a slot's end for FEEDBACK_OPEN_FOR."""
    now = now or timezone.now()
    meetings = (
        Meeting.objects.filter(Q(first=profile) | Q(second=profile), slot__isnull=False)
        .select_related("slot", "first", "second")
        .order_by("slot__starts_at")
    )
    return [
        AgendaItem(
            meeting=m,
            slot=m.slot,
            table=m.table,
            counterpart=m.counterpart(profile),
            feedback=_feedback_state(m.slot, now),
        )
        for m in meetings
    ]


def grid(*, event: Event) -> list[tuple[Slot, list[Meeting | None]]]:
    """Who sits at which table, slot by slot; one query for slots and one for meetings."""
    tables = event.matchmaking.tables
    slots = list(
        Slot.objects.filter(event=event).prefetch_related(
            Prefetch("meetings", queryset=Meeting.objects.select_related("first", "second"))
        )
    )
    rows = []
    for slot in slots:
        seats: list[Meeting | None] = [None] * tables
        for meeting in slot.meetings.all():
            if meeting.table and meeting.table <= tables:
                seats[meeting.table - 1] = meeting
        rows.append((slot, seats))
    return rows


def report(*, events) -> list[dict]:
    """Requested, accepted, placed, held and followed-up meetings per event."""
    followed = MeetingFeedback.objects.filter(happened=True).exclude(result__in=["", "nothing"])
    rows = events.annotate(
        requested=Count("meeting_requests", distinct=True),
        accepted=Count(
            "meeting_requests", filter=Q(meeting_requests__status=MeetingRequest.Status.ACCEPTED), distinct=True
        ),
        placed=Count("meetings", filter=Q(meetings__slot__isnull=False), distinct=True),
        held=Count("meetings", filter=Q(meetings__outcome=Meeting.Outcome.HELD), distinct=True),
        followed_up=Count("meetings", filter=Q(meetings__feedback__in=followed), distinct=True),
    )
    return [
        {
            "event": e,
            "requested": e.requested,
            "accepted": e.accepted,
            "placed": e.placed,
            "held": e.held,
            "followed_up": e.followed_up,
        }
        for e in rows
    ]
