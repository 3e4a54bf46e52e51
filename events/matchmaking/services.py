"""Matchmaking writes: profiles, availability, requests and their mail, schedule runs, late fits, outcomes."""

from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.audit import audit_record
from common.errors import DomainError
from events.calendars import agenda_ics
from events.matchmaking import scheduler
from events.matchmaking.selectors import FEEDBACK_OPEN_FOR, agenda
from events.models import (
    InvalidTransition,
    MatchmakingConfig,
    Meeting,
    MeetingFeedback,
    MeetingRequest,
    MeetingSession,
    Profile,
    Registration,
    Slot,
    Unavailability,
)
from outbox.api import mail_enqueue

EMAIL = "events/matchmaking/email/"


class MatchmakingError(DomainError):
    """A rule a participant or staff member can act on; the message is translated and shown as it is."""


def _language(profile: Profile) -> str:
    return profile.registration.language or profile.user.preferred_language


def _mail(*, template: str, profile: Profile, context: dict, dedupe_key: str | None = None, attachments=None):
    if profile.user_id is None:  # an anonymised profile: its person deleted their account
        return None
    return mail_enqueue(
        template=EMAIL + template,
        to=profile.user.email,
        language=_language(profile),
        context={"profile": profile, "event": profile.event, **context},
        dedupe_key=dedupe_key,
        attachments=attachments,
    )


def _agenda_attachment(profile: Profile, meetings) -> list[dict]:
    with translation.override(_language(profile)):
        content = agenda_ics(profile=profile, items=meetings)
    return [{"filename": f"agenda-{profile.event.slug}.ics", "content": content, "mimetype": "text/calendar"}]


def _config_locked(event) -> MatchmakingConfig:
    """The event's matchmaking row, locked: requests, availability and schedules of one event take turns."""
    config = MatchmakingConfig.objects.select_for_update().filter(event=event, enabled=True).first()
    if config is None:
        raise MatchmakingError(_("Matchmaking is not open for this event."))
    return config


def session_create(*, event, starts_at, slot_minutes: int, slot_count: int, name: str = "") -> MeetingSession:
    with transaction.atomic():
        session = MeetingSession.objects.create(
            event=event, name=name, starts_at=starts_at, slot_minutes=slot_minutes, slot_count=slot_count
        )
        length = timedelta(minutes=slot_minutes)
        Slot.objects.bulk_create(
            Slot(
                event=event,
                session=session,
                index=i,
                starts_at=starts_at + i * length,
                ends_at=starts_at + (i + 1) * length,
            )
            for i in range(slot_count)
        )
    return session


def profile_create(*, registration: Registration, kind: str = Profile.Kind.COMPANY, languages=None) -> Profile:
    """A profile for a confirmed participant, filled in from their organisation's offers, needs and tags."""
    if registration.status != Registration.Status.CONFIRMED or registration.user_id is None:
        raise MatchmakingError(_("Only confirmed participants with an account can take part in matchmaking."))
    organisation = registration.organisation
    with transaction.atomic():
        _config_locked(registration.event)
        profile = Profile(
            event=registration.event,
            registration=registration,
            user=registration.user,
            organisation=organisation,
            display_name=registration.full_name,
            organisation_name=organisation.name if organisation else registration.organisation_name,
            kind=kind,
            languages=list(languages or [registration.language]),
        )
        if organisation is not None:
            for field in ("offers", "seeks"):
                for code in ("da", "en"):
                    setattr(profile, f"{field}_{code}", getattr(organisation, f"{field}_{code}", ""))
        try:
            with transaction.atomic():
                profile.save()
        except IntegrityError:
            raise MatchmakingError(_("You already have a matchmaking profile for this event.")) from None
        if organisation is not None:
            profile.offer_tags.set(organisation.offer_tags.all())
            profile.seek_tags.set(organisation.seek_tags.all())
            profile.segments.set(organisation.segments.all())
    return profile


def availability_set(*, profile: Profile, unavailable_slots) -> None:
    """Replace the slots a participant cannot take; a slot already holding their meeting stays available."""
    wanted = {slot.pk for slot in unavailable_slots}
    with transaction.atomic():
        _config_locked(profile.event)
        if Slot.objects.filter(pk__in=wanted).exclude(event=profile.event).exists():
            raise MatchmakingError(_("That slot is not part of this event."))
        busy = set(
            Meeting.objects.filter(event=profile.event, slot_id__in=wanted)
            .filter(Q(first=profile) | Q(second=profile))
            .values_list("slot_id", flat=True)
        )
        if busy:
            raise MatchmakingError(_("You already have a meeting in a slot you marked; ask the organisers to move it."))
        Unavailability.objects.filter(profile=profile).exclude(slot_id__in=wanted).delete()
        existing = set(Unavailability.objects.filter(profile=profile).values_list("slot_id", flat=True))
        Unavailability.objects.bulk_create(Unavailability(profile=profile, slot_id=pk) for pk in wanted - existing)


def profile_update(*, profile: Profile, form, unavailable_slots) -> Profile:
    """Save the profile form and the slots the participant cannot take, together or not at all."""
    with transaction.atomic():
        form.save()
        availability_set(profile=profile, unavailable_slots=unavailable_slots)
    return profile


def request_send(*, sender: Profile, recipient: Profile, message: str, now=None) -> MeetingRequest:
    now = now or timezone.now()
    if sender.event_id != recipient.event_id:
        raise MatchmakingError(_("You can only ask participants of the same event."))
    if sender.pk == recipient.pk:
        raise MatchmakingError(_("You cannot ask yourself for a meeting."))
    if recipient.registration.status != Registration.Status.CONFIRMED:
        raise MatchmakingError(_("This participant no longer takes part in the event."))
    if now >= sender.event.ends_at:
        raise MatchmakingError(_("The event is over: meeting requests are closed."))
    with transaction.atomic():
        config = _config_locked(sender.event)
        pending = MeetingRequest.objects.filter(
            sender=sender, status=MeetingRequest.Status.PENDING, expires_at__gt=now
        ).count()
        if pending >= config.max_pending_requests:
            raise MatchmakingError(
                ngettext(
                    "You have %(count)d unanswered request, the most this event allows. Wait for an answer first.",
                    "You have %(count)d unanswered requests, the most this event allows. Wait for answers first.",
                    pending,
                )
                % {"count": pending}
            )
        request = MeetingRequest(
            event=sender.event,
            sender=sender,
            recipient=recipient,
            message=message,
            created_at=now,
            # Requests close when the event ends, so an unanswered one expires then at the latest.
            expires_at=min(now + timedelta(hours=config.request_expiry_hours), sender.event.ends_at),
        )
        try:
            with transaction.atomic():
                request.save()
        except IntegrityError:
            raise MatchmakingError(_("There is already an open request or a meeting between you two.")) from None
        _mail(template="request_received", profile=recipient, context={"request": request})
        audit_record(actor=sender.user, action="matchmaking.request_send", target=request)
    return request


def _answer(*, request: MeetingRequest, by, now, accept: bool) -> MeetingRequest:
    with transaction.atomic():
        config = _config_locked(request.event)
        request = (
            MeetingRequest.objects.select_for_update(of=("self",))
            .select_related("sender__user", "recipient__user")
            .get(pk=request.pk)
        )
        if request.recipient.user_id != by.pk:
            raise MatchmakingError(_("Only the person asked can answer this request."))
        if now >= request.event.ends_at:
            raise MatchmakingError(_("The event is over: meeting requests are closed."))
        try:
            if accept:
                request.accept(now=now)
            else:
                request.decline(now=now)
        except InvalidTransition as error:
            raise MatchmakingError(_("This request can no longer be answered.")) from error
        request.save(update_fields=["status", "answered_at"])
        if accept:
            meeting = Meeting.objects.create(
                event=request.event, request=request, first=request.sender, second=request.recipient
            )
            if config.scheduled_at is not None:
                _fit(meeting=meeting, allow_move=False, now=now)
        _mail(
            template="request_accepted" if accept else "request_declined",
            profile=request.sender,
            context={"request": request},
        )
        audit_record(actor=by, action="matchmaking.request_" + request.status, target=request)
    return request


def request_accept(*, request: MeetingRequest, by, now=None) -> MeetingRequest:
    return _answer(request=request, by=by, now=now or timezone.now(), accept=True)


def request_decline(*, request: MeetingRequest, by, now=None) -> MeetingRequest:
    return _answer(request=request, by=by, now=now or timezone.now(), accept=False)


def requests_expire(*, now=None) -> int:
    """Expire every pending request past its time and tell its sender; safe to run again."""
    now = now or timezone.now()
    expired = 0
    with transaction.atomic():
        due = (
            MeetingRequest.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=MeetingRequest.Status.PENDING, expires_at__lte=now)
            .select_related("sender__user", "sender__registration", "sender__event", "recipient")
        )
        for request in due:
            request.expire(now=now)
            request.save(update_fields=["status", "answered_at"])
            _mail(template="request_expired", profile=request.sender, context={"request": request})
            expired += 1
    return expired


def participant_withdraw(*, profile: Profile, by=None, now=None) -> int:
    """Take a participant out of matchmaking (their registration is cancelled or their account deleted): their
    open requests and agreed meetings are cancelled, freeing the slots, and each counterpart is told once, in
    their own language. Returns how many counterparts were told; running it again tells nobody twice."""
    now = now or timezone.now()
    with transaction.atomic():
        # Withdrawal goes on even when staff have switched matchmaking off since; the lock keeps schedules out.
        MatchmakingConfig.objects.select_for_update().filter(event_id=profile.event_id).first()
        live = list(
            MeetingRequest.objects.select_for_update(of=("self",))
            .filter(Q(sender=profile) | Q(recipient=profile), status__in=MeetingRequest.LIVE)
            .select_related("sender", "recipient")
            .order_by("pk")
        )
        if not live:
            return 0
        meetings = {m.request_id: m for m in Meeting.objects.filter(request__in=live).select_related("slot")}
        Meeting.objects.filter(request__in=live).delete()
        counterparts: dict[int, list[dict]] = {}
        for request in live:
            request.cancel(now=now)
            request.save(update_fields=["status", "answered_at"])
            other = request.recipient_id if request.sender_id == profile.pk else request.sender_id
            meeting = meetings.get(request.pk)
            counterparts.setdefault(other, []).append(
                {"meeting": meeting is not None, "slot": meeting.slot if meeting else None}
            )
        told = 0
        for counterpart in Profile.objects.filter(pk__in=counterparts).select_related("user", "registration", "event"):
            written = _mail(
                template="participant_withdrawn",
                profile=counterpart,
                context={"withdrawn": profile, "cancelled": counterparts[counterpart.pk]},
                dedupe_key=f"matchmaking-withdrawn:{profile.pk}:{counterpart.pk}",
            )
            told += written is not None
        audit_record(
            actor=by,
            action="matchmaking.participant_withdraw",
            target=profile,
            data={"requests_cancelled": len(live), "counterparts_told": told},
        )
    return told


def profile_anonymise(*, profile: Profile) -> Profile:
    """Strip the person from a profile at a past event; its meetings and the other side's feedback stay. The
    requests' messages and their own feedback comments go (they may say anything). Reusable for retention."""
    with transaction.atomic():
        profile = Profile.objects.select_for_update().get(pk=profile.pk)
        profile.user = None
        profile.display_name = ""
        fields = ["user", "display_name"]
        for field in ("headline", "offers", "seeks"):
            for code in ("", "_da", "_en"):
                if hasattr(profile, field + code):
                    setattr(profile, field + code, "")
                    fields.append(field + code)
        profile.save(update_fields=fields)
        Unavailability.objects.filter(profile=profile).delete()
        MeetingRequest.objects.filter(Q(sender=profile) | Q(recipient=profile)).update(message="")
        MeetingFeedback.objects.filter(profile=profile).update(comment="")
    return profile


def _problem(event, *, allow_move: bool, now) -> tuple[scheduler.Problem, dict[int, Meeting]]:
    config = event.matchmaking
    slots = list(Slot.objects.filter(event=event))
    meetings = {m.pk: m for m in Meeting.objects.filter(event=event).select_related("slot")}
    profiles = set(Profile.objects.filter(event=event).values_list("pk", flat=True))
    unavailable: dict[int, set] = {}
    for profile_id, slot_id in Unavailability.objects.filter(profile__event=event).values_list("profile_id", "slot_id"):
        unavailable.setdefault(profile_id, set()).add(slot_id)
    problem = scheduler.Problem(
        participants=sorted(profiles),
        slots=[scheduler.Slot(id=s.pk, session=s.session_id, index=s.index) for s in slots],
        tables=list(range(1, config.tables + 1)),
        meetings=[scheduler.Meeting(id=m.pk, a=m.first_id, b=m.second_id) for m in meetings.values()],
        unavailable={p: frozenset(s) for p, s in unavailable.items()},
        locked={m.pk: scheduler.Placement(m.slot_id, m.table) for m in meetings.values() if m.locked},
        placed={m.pk: scheduler.Placement(m.slot_id, m.table) for m in meetings.values() if m.slot_id and not m.locked},
        allow_move=allow_move,
        started=frozenset(s.pk for s in slots if s.starts_at <= now),
    )
    return problem, meetings


def _apply(*, meetings: dict[int, Meeting], placements: dict) -> set[int]:
    """Write new placements; returns the profiles whose agenda changed. Unplaced first, so seats free up."""
    changed: dict[int, Meeting] = {}
    for pk, meeting in meetings.items():
        new = placements.get(pk)
        target = (new.slot, new.table) if new else (None, None)
        if (meeting.slot_id, meeting.table) != target:
            changed[pk] = meeting
            meeting.slot_id, meeting.table = target
    if changed:
        Meeting.objects.filter(pk__in=changed).update(slot=None, table=None)
        for meeting in changed.values():
            if meeting.slot_id is not None:
                Meeting.objects.filter(pk=meeting.pk).update(slot_id=meeting.slot_id, table=meeting.table)
    return {p for m in changed.values() for p in (m.first_id, m.second_id)}


def _notify_changed(*, event, profile_ids: set[int]) -> None:
    for profile in Profile.objects.filter(pk__in=profile_ids).select_related("user", "registration", "event"):
        meetings = agenda(profile=profile)
        _mail(
            template="agenda_changed",
            profile=profile,
            context={"meetings": meetings},
            attachments=_agenda_attachment(profile, meetings),
        )


@dataclass
class ScheduleRun:
    result: scheduler.ScheduleResult
    changed_profiles: int


def schedule_run(*, event, by, allow_move: bool = True, time_limit: float = 10.0, now=None) -> ScheduleRun:
    """Place the event's accepted meetings, keeping locked ones and those in slots that have begun; nothing new
    goes into a slot that has begun. Everyone whose agenda changed gets a mail."""
    now = now or timezone.now()
    with transaction.atomic():
        config = _config_locked(event)
        problem, meetings = _problem(event, allow_move=allow_move, now=now)
        try:
            result = scheduler.schedule(problem, time_limit=time_limit)
        except scheduler.ScheduleInputError as error:
            raise MatchmakingError(_("Locked meetings conflict with each other or with availability.")) from error
        changed = _apply(meetings=meetings, placements=result.placements)
        config.scheduled_at = timezone.now()
        config.save(update_fields=["scheduled_at"])
        _notify_changed(event=event, profile_ids=changed)
        audit_record(
            actor=by,
            action="matchmaking.schedule_run",
            target=event,
            data={"placed": result.placed_count, "upper_bound": result.upper_bound, "status": result.status},
        )
    return ScheduleRun(result=result, changed_profiles=len(changed))


def _fit(*, meeting: Meeting, allow_move: bool, now) -> scheduler.LateFit:
    problem, meetings = _problem(meeting.event, allow_move=allow_move, now=now)
    problem.placed = {pk: p for pk, p in problem.placed.items() if pk != meeting.pk}
    fit = scheduler.fit_late_meeting(problem, meeting.pk, time_limit=5.0)
    changed = _apply(
        meetings={pk: meetings[pk] for pk in fit.placements.keys() | {meeting.pk}}, placements=fit.placements
    )
    _notify_changed(event=meeting.event, profile_ids=changed)
    return fit


def meeting_fit_late(*, meeting: Meeting, by, allow_move: bool = False, now=None) -> scheduler.LateFit:
    """Fit an unplaced meeting into a slot that has not begun; placed meetings move only when staff allow it."""
    now = now or timezone.now()
    with transaction.atomic():
        _config_locked(meeting.event)
        meeting = Meeting.objects.select_related("event").get(pk=meeting.pk)
        if meeting.slot_id is not None:
            raise MatchmakingError(_("This meeting already has a slot."))
        fit = _fit(meeting=meeting, allow_move=allow_move, now=now)
        audit_record(actor=by, action="matchmaking.meeting_fit_late", target=meeting, data={"moved": fit.moved})
    return fit


def meeting_set_locked(*, meeting: Meeting, by, locked: bool) -> Meeting:
    with transaction.atomic():
        _config_locked(meeting.event)
        meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
        if locked:
            meeting.lock()
        else:
            meeting.locked = False
        meeting.save(update_fields=["locked"])
        audit_record(
            actor=by, action="matchmaking.meeting_lock" if locked else "matchmaking.meeting_unlock", target=meeting
        )
    return meeting


def meeting_record_outcome(*, meeting: Meeting, by, outcome: str) -> Meeting:
    with transaction.atomic():
        meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
        meeting.mark(outcome)
        meeting.save(update_fields=["outcome"])
        audit_record(actor=by, action="matchmaking.meeting_outcome", target=meeting, data={"outcome": outcome})
    return meeting


def feedback_window(*, meeting: Meeting) -> tuple | None:
    """When feedback on a placed meeting may be given and changed: from the end of its slot for 14 days."""
    if meeting.slot is None:
        return None
    return meeting.slot.ends_at, meeting.slot.ends_at + FEEDBACK_OPEN_FOR


def feedback_submit(
    *, meeting: Meeting, profile: Profile, happened: bool, result: str = "", comment: str = "", now=None
) -> MeetingFeedback:
    """Store or change one side's feedback, while the meeting's feedback window is open."""
    now = now or timezone.now()
    if profile.pk not in (meeting.first_id, meeting.second_id):
        raise MatchmakingError(_("Only the two people at a meeting can say how it went."))
    window = feedback_window(meeting=meeting)
    if window is None or now < window[0]:
        raise MatchmakingError(_("You can tell us how the meeting went after the meeting."))
    if now >= window[1]:
        raise MatchmakingError(_("Feedback on this meeting is closed: it was open for 14 days after the meeting."))
    with transaction.atomic():
        feedback, _created = MeetingFeedback.objects.update_or_create(
            meeting=meeting,
            profile=profile,
            defaults={"happened": happened, "result": result if happened else "", "comment": comment},
            create_defaults={
                "happened": happened,
                "result": result if happened else "",
                "comment": comment,
                "created_at": now,
            },
        )
    return feedback


def agendas_send_day_before(*, now=None) -> int:
    """Mail each participant with placed meetings their agenda on the day before; each mail is owed once."""
    now = now or timezone.now()
    tomorrow = timezone.localdate(now) + timedelta(days=1)
    sent = 0
    profiles = Profile.objects.filter(
        event__matchmaking__enabled=True, event__meeting_slots__starts_at__date=tomorrow
    ).distinct()
    for profile in profiles.select_related("user", "registration", "event"):
        meetings = agenda(profile=profile)
        if not meetings:
            continue
        with transaction.atomic():
            written = _mail(
                template="agenda_day_before",
                profile=profile,
                context={"meetings": meetings},
                dedupe_key=f"matchmaking-agenda:{profile.pk}:{tomorrow.isoformat()}",
                attachments=_agenda_attachment(profile, meetings),
            )
        sent += written is not None
    return sent


def feedback_requests_send(*, now=None) -> int:
    """After an event, ask both sides of each placed meeting how it went; once per meeting and side."""
    now = now or timezone.now()
    asked = 0
    # A week after the event is late enough to ask; older events were asked before (the dedupe key holds).
    meetings = Meeting.objects.filter(
        slot__isnull=False,
        event__ends_at__lte=now,
        event__ends_at__gt=now - timedelta(days=7),
        event__matchmaking__enabled=True,
    )
    for meeting in meetings.select_related(
        "event", "first__user", "first__registration", "second__user", "second__registration"
    ):
        for profile in (meeting.first, meeting.second):
            with transaction.atomic():
                written = _mail(
                    template="feedback_request",
                    profile=profile,
                    context={"meeting": meeting, "counterpart": meeting.counterpart(profile)},
                    dedupe_key=f"matchmaking-feedback:{meeting.pk}:{profile.pk}",
                )
            asked += written is not None
    return asked
