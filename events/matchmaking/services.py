"""Matchmaking writes: profiles, availability, requests and their mail, schedule runs, late fits, outcomes.

A schedule run (or a late fit) is built under the event's matchmaking lock, solved without it (in a worker, or
inline for the demo and tests) and applied under the lock only when the input revision it was built from is still
current; every service that changes what the scheduler reads bumps that revision.
"""

import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.audit import audit_record
from common.errors import DomainError
from common.locks import lock_one, locked
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
    ScheduleRun,
    Slot,
    Unavailability,
)
from members.models import Benefit
from members.selectors import organisation_active_membership
from outbox.api import mail_enqueue, publish_in_background

logger = logging.getLogger(__name__)

EMAIL = "events/matchmaking/email/"
# A run whose input changed while it was solving is solved once more before it is given up as outdated.
RUN_ATTEMPTS = 2
# The sweep re-publishes a run still queued after this long (a lost publish) and fails one solving this long (its
# worker died): two attempts at the scheduler's wall-clock safety net, and margin.
RUN_REPUBLISH_AFTER = timedelta(minutes=2)
RUN_STUCK_AFTER = timedelta(seconds=2 * RUN_ATTEMPTS * scheduler.DEFAULT_TIME_LIMIT + 120)


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
    config = lock_one(MatchmakingConfig.objects, event=event, enabled=True)
    if config is None:
        raise MatchmakingError(_("Matchmaking is not open for this event."))
    return config


def _input_changed(*, event_id: int) -> None:
    """What the scheduler reads for this event changed: a run solved from before is no longer applied. Callers
    hold the event's matchmaking lock (or, for data without a schedule, need none)."""
    MatchmakingConfig.objects.filter(event_id=event_id).update(revision=F("revision") + 1)


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
        _input_changed(event_id=event.pk)
    return session


def config_update(*, config: MatchmakingConfig, by) -> MatchmakingConfig:
    """Save the settings staff edited (the table count is the scheduler's input), taking turns with runs."""
    with transaction.atomic():
        lock_one(MatchmakingConfig.objects, pk=config.pk)
        config.save()
        _input_changed(event_id=config.event_id)
        audit_record(actor=by, action="matchmaking.config_update", target=config.event)
    config.refresh_from_db(fields=["revision"])
    return config


def input_removed(*, event_id: int) -> None:
    """Staff deleted slots, meetings or profiles in the admin: runs solved from before must not be applied."""
    with transaction.atomic():
        lock_one(MatchmakingConfig.objects, event_id=event_id)
        _input_changed(event_id=event_id)


def profile_create(*, registration: Registration, kind: str = Profile.Kind.COMPANY, languages=None) -> Profile:
    """A profile for a confirmed participant, filled in from their organisation's offers, needs and tags."""
    if registration.status != Registration.Status.CONFIRMED or registration.user_id is None:
        raise MatchmakingError(_("Only confirmed participants with an account can take part in matchmaking."))
    organisation = registration.organisation
    # Someone who signed up for a member organisation takes part on its membership's terms: a type without
    # matchmaking (a supporting member) does not give it. Non-members take part as the event allows.
    membership = organisation_active_membership(organisation=organisation) if organisation is not None else None
    if membership is not None and Benefit.MATCHMAKING not in membership.membership_type.benefits:
        raise MatchmakingError(_("Your organisation's membership type does not include matchmaking."))
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
        removed, _kinds = Unavailability.objects.filter(profile=profile).exclude(slot_id__in=wanted).delete()
        existing = set(Unavailability.objects.filter(profile=profile).values_list("slot_id", flat=True))
        Unavailability.objects.bulk_create(Unavailability(profile=profile, slot_id=pk) for pk in wanted - existing)
        if removed or wanted - existing:
            _input_changed(event_id=profile.event_id)


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
        request = locked(MeetingRequest.objects.select_related("sender__user", "recipient__user"), of=("self",)).get(
            pk=request.pk
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
            _input_changed(event_id=request.event_id)
            if config.scheduled_at is not None:
                # Without moves the late fit is a greedy pass, quick enough for the participant's own request.
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
        due = locked(
            MeetingRequest.objects.filter(status=MeetingRequest.Status.PENDING, expires_at__lte=now).select_related(
                "sender__user", "sender__registration", "sender__event", "recipient"
            ),
            skip_locked=True,
            of=("self",),
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
        lock_one(MatchmakingConfig.objects, event_id=profile.event_id)
        live = list(
            locked(
                MeetingRequest.objects.filter(
                    Q(sender=profile) | Q(recipient=profile), status__in=MeetingRequest.LIVE
                ).select_related("sender", "recipient"),
                of=("self",),
            ).order_by("pk")
        )
        if not live:
            return 0
        meetings = {m.request_id: m for m in Meeting.objects.filter(request__in=live).select_related("slot")}
        Meeting.objects.filter(request__in=live).delete()
        if meetings:
            _input_changed(event_id=profile.event_id)
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
        profile = lock_one(profile)
        profile.user = None
        profile.display_name = ""
        fields = ["user", "display_name"]
        for field in ("headline", "offers", "seeks"):
            for code in ("", "_da", "_en"):
                if hasattr(profile, field + code):
                    setattr(profile, field + code, "")
                    fields.append(field + code)
        profile.save(update_fields=fields)
        if Unavailability.objects.filter(profile=profile).delete()[0]:
            _input_changed(event_id=profile.event_id)
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
class ScheduleOutcome:
    result: scheduler.ScheduleResult
    changed_profiles: int
    run: ScheduleRun


@dataclass
class _Prepared:
    """A run's problem as built under the lock, and what applying its solution must find unchanged."""

    run_id: int
    kind: str
    attempts: int
    revision: int
    problem: scheduler.Problem
    meeting_id: int | None
    lock_ms: float


def _run_create(*, event, by, kind: str, allow_move: bool, meeting=None) -> ScheduleRun:
    try:
        with transaction.atomic():
            return ScheduleRun.objects.create(
                event=event, kind=kind, allow_move=allow_move, meeting=meeting, started_by=by
            )
    except IntegrityError:
        raise MatchmakingError(
            _("The scheduler is already working on this event; wait until it has finished.")
        ) from None


def _run_publish(*, run_id: int) -> None:
    if not settings.OUTBOX_DELIVER:  # the switch for every task this site publishes (off in tests without a worker)
        return
    from events.matchmaking.tasks import schedule_run_task

    try:
        schedule_run_task.apply_async(args=[run_id], retry=False)
    except Exception as exc:  # the broker is down or slow: the sweep re-publishes queued runs
        logger.warning("matchmaking: could not publish schedule run %s: %s", run_id, exc)


def _run_queue(run: ScheduleRun) -> ScheduleRun:
    transaction.on_commit(lambda: publish_in_background(lambda: _run_publish(run_id=run.pk)))
    return run


def _schedule_create(*, event, by, allow_move: bool) -> ScheduleRun:
    with transaction.atomic():
        _config_locked(event)
        run = _run_create(event=event, by=by, kind=ScheduleRun.Kind.SCHEDULE, allow_move=allow_move)
        audit_record(actor=by, action="matchmaking.schedule_start", target=event, data={"run": run.pk})
    return run


def schedule_start(*, event, by, allow_move: bool = True) -> ScheduleRun:
    """Queue a run of the scheduler for a worker; the participants' requests and changes go on meanwhile."""
    with transaction.atomic():
        return _run_queue(_schedule_create(event=event, by=by, allow_move=allow_move))


def _late_fit_create(*, meeting: Meeting, by, allow_move: bool) -> ScheduleRun:
    with transaction.atomic():
        _config_locked(meeting.event)
        meeting = Meeting.objects.select_related("event").get(pk=meeting.pk)
        if meeting.slot_id is not None:
            raise MatchmakingError(_("This meeting already has a slot."))
        run = _run_create(
            event=meeting.event, by=by, kind=ScheduleRun.Kind.LATE_FIT, allow_move=allow_move, meeting=meeting
        )
        audit_record(actor=by, action="matchmaking.meeting_fit_late_start", target=meeting, data={"run": run.pk})
    return run


def meeting_fit_late_start(*, meeting: Meeting, by, allow_move: bool = False) -> ScheduleRun:
    """Queue fitting an unplaced meeting into a slot that has not begun; placed meetings move only when allowed."""
    with transaction.atomic():
        return _run_queue(_late_fit_create(meeting=meeting, by=by, allow_move=allow_move))


def _run_fail(*, run: ScheduleRun, error: str, now) -> ScheduleRun:
    run.fail(error=error, now=now)
    run.save(update_fields=["status", "error", "finished_at"])
    return run


def _run_prepare(*, run_id: int, attempts: int | None, now) -> _Prepared | ScheduleRun | None:
    """Claim the run and build its problem under the lock. `attempts` None claims a queued run; a number re-claims
    the run this caller is solving, after an outdated result. Returns the run itself when it ended here, None when
    it is gone or someone else has it."""
    started = time.perf_counter()
    with transaction.atomic():
        run = lock_one(ScheduleRun.objects, pk=run_id)
        if run is None:
            return None
        if (attempts is None and run.status != ScheduleRun.Status.QUEUED) or (
            attempts is not None and (run.status != ScheduleRun.Status.SOLVING or run.attempts != attempts)
        ):
            return None
        now = now or timezone.now()
        config = lock_one(MatchmakingConfig.objects.select_related("event"), event_id=run.event_id, enabled=True)
        if config is None:
            return _run_fail(run=run, error=ScheduleRun.Error.CLOSED, now=now)
        problem, _meetings = _problem(config.event, allow_move=run.allow_move, now=now)
        if run.kind == ScheduleRun.Kind.LATE_FIT:
            if run.meeting_id is None or run.meeting_id not in _meetings:
                return _run_fail(run=run, error=ScheduleRun.Error.GONE, now=now)
            if _meetings[run.meeting_id].slot_id is not None:
                return _run_fail(run=run, error=ScheduleRun.Error.PLACED, now=now)
        run.start_solving(revision=config.revision, now=now)
        run.save(update_fields=["status", "revision", "attempts", "solving_at"])
    return _Prepared(
        run_id=run.pk,
        kind=run.kind,
        attempts=run.attempts,
        revision=config.revision,
        problem=problem,
        meeting_id=run.meeting_id,
        lock_ms=(time.perf_counter() - started) * 1000,
    )


def _run_solve(prepared: _Prepared, *, time_limit: float):
    """The solve, with no lock and no transaction: the event's participants carry on meanwhile."""
    if prepared.kind == ScheduleRun.Kind.LATE_FIT:
        return scheduler.fit_late_meeting(prepared.problem, prepared.meeting_id, time_limit=time_limit)
    return scheduler.schedule(prepared.problem, time_limit=time_limit)


def _started_slots_moved(*, event_id: int, placements: dict, meetings: dict[int, Meeting], now) -> bool:
    """A slot began while the solver ran: applying would put a meeting into it, or take one out of it."""
    started = set(Slot.objects.filter(event_id=event_id, starts_at__lte=now).values_list("pk", flat=True))
    for pk, meeting in meetings.items():
        new = placements.get(pk)
        target = new.slot if new else None
        if target != meeting.slot_id and (target in started or meeting.slot_id in started):
            return True
    return False


def _run_apply(prepared: _Prepared, solution, *, seconds: float, last: bool, now) -> tuple[ScheduleRun, set | None]:
    """Apply the solution under the lock if the input is unchanged since it was built; otherwise leave the run
    solving for one more attempt, or mark it outdated. Returns the run and the profiles whose agenda changed."""
    started = time.perf_counter()
    with transaction.atomic():
        run = lock_one(ScheduleRun.objects, pk=prepared.run_id)
        if run is None or run.status != ScheduleRun.Status.SOLVING or run.attempts != prepared.attempts:
            return run, None
        now = now or timezone.now()
        run.solve_seconds = (run.solve_seconds or 0) + seconds
        config = lock_one(MatchmakingConfig.objects.select_related("event"), event_id=run.event_id, enabled=True)
        if config is None:
            return _run_fail(run=run, error=ScheduleRun.Error.CLOSED, now=now), None
        meetings = {m.pk: m for m in Meeting.objects.filter(event_id=run.event_id)}
        if run.kind == ScheduleRun.Kind.LATE_FIT:
            meetings = {pk: meetings[pk] for pk in solution.placements.keys() | {prepared.meeting_id} if pk in meetings}
        outdated = config.revision != prepared.revision or _started_slots_moved(
            event_id=run.event_id, placements=solution.placements, meetings=meetings, now=now
        )
        run.lock_ms = (run.lock_ms or 0) + prepared.lock_ms
        if outdated:
            if last:
                run.mark_stale(now=now)
            run.lock_ms += (time.perf_counter() - started) * 1000
            run.save(update_fields=["status", "finished_at", "solve_seconds", "lock_ms"])
            return run, None
        changed = _apply(meetings=meetings, placements=solution.placements)
        if changed:
            _input_changed(event_id=run.event_id)
        run.changed_profiles = len(changed)
        run.accepted = len(prepared.problem.meetings)
        if run.kind == ScheduleRun.Kind.SCHEDULE:
            config.scheduled_at = now
            config.save(update_fields=["scheduled_at"])
            run.placed, run.upper_bound, run.gaps = solution.placed_count, solution.upper_bound, solution.gaps
            run.solver_status = solution.status
            audit_record(
                actor=run.started_by,
                action="matchmaking.schedule_run",
                target=config.event,
                data={"placed": solution.placed_count, "upper_bound": solution.upper_bound, "status": solution.status},
            )
        else:
            run.placed = int(solution.placement is not None)
            run.moved = len(solution.moved)
            audit_record(
                actor=run.started_by,
                action="matchmaking.meeting_fit_late",
                target=run.meeting,
                data={"moved": solution.moved},
            )
        _notify_changed(event=config.event, profile_ids=changed)
        run.mark_applied(now=now)
        run.lock_ms += (time.perf_counter() - started) * 1000
        run.save()
    return run, changed


def _run_execute(*, run_id: int, time_limit: float, now=None):
    attempts = None
    for attempt in range(RUN_ATTEMPTS):
        prepared = _run_prepare(run_id=run_id, attempts=attempts, now=now)
        if not isinstance(prepared, _Prepared):
            return prepared, None
        started = time.perf_counter()
        try:
            solution = _run_solve(prepared, time_limit=time_limit)
        except scheduler.ScheduleInputError:
            with transaction.atomic():
                run = lock_one(ScheduleRun.objects, pk=run_id)
                return _run_fail(run=run, error=ScheduleRun.Error.CONFLICT, now=now or timezone.now()), None
        run, changed = _run_apply(
            prepared,
            solution,
            seconds=time.perf_counter() - started,
            last=attempt == RUN_ATTEMPTS - 1,
            now=now,
        )
        if run is None or run.status != ScheduleRun.Status.SOLVING:
            return run, solution if changed is not None else None
        attempts = prepared.attempts
    return ScheduleRun.objects.filter(pk=run_id).first(), None


def schedule_run_execute(*, run_id: int, time_limit: float = scheduler.DEFAULT_TIME_LIMIT) -> ScheduleRun | None:
    """The worker's part of a run: build under the lock, solve without it, apply if nothing changed meanwhile
    (solving once more if it did). Returns the run, or None when it is gone; a run not queued is left alone."""
    run, _solution = _run_execute(run_id=run_id, time_limit=time_limit)
    return run


def _raise_unless_applied(run: ScheduleRun | None) -> None:
    if run is None or run.status != ScheduleRun.Status.APPLIED:
        raise MatchmakingError(run.error_message if run is not None else _("The schedule run is gone."))


def schedule_run(
    *, event, by, allow_move: bool = True, time_limit: float = scheduler.DEFAULT_TIME_LIMIT, now=None
) -> ScheduleOutcome:
    """Run the scheduler here and now (the demo data, tests): the same steps as a worker's run, lock released
    during the solve. Places the event's accepted meetings, keeping locked ones and those in slots that have
    begun; nothing new goes into a slot that has begun. Everyone whose agenda changed gets a mail."""
    run = _schedule_create(event=event, by=by, allow_move=allow_move)
    run, result = _run_execute(run_id=run.pk, time_limit=time_limit, now=now)
    _raise_unless_applied(run)
    return ScheduleOutcome(result=result, changed_profiles=run.changed_profiles, run=run)


def _fit(*, meeting: Meeting, allow_move: bool, now) -> scheduler.LateFit:
    problem, meetings = _problem(meeting.event, allow_move=allow_move, now=now)
    problem.placed = {pk: p for pk, p in problem.placed.items() if pk != meeting.pk}
    fit = scheduler.fit_late_meeting(problem, meeting.pk)
    changed = _apply(
        meetings={pk: meetings[pk] for pk in fit.placements.keys() | {meeting.pk}}, placements=fit.placements
    )
    _notify_changed(event=meeting.event, profile_ids=changed)
    return fit


def meeting_fit_late(
    *, meeting: Meeting, by, allow_move: bool = False, time_limit: float = scheduler.DEFAULT_TIME_LIMIT, now=None
) -> scheduler.LateFit:
    """Fit an unplaced meeting into a slot that has not begun, here and now (tests; staff queue it with
    meeting_fit_late_start); placed meetings move only when staff allow it."""
    run = _late_fit_create(meeting=meeting, by=by, allow_move=allow_move)
    run, fit = _run_execute(run_id=run.pk, time_limit=time_limit, now=now)
    _raise_unless_applied(run)
    return fit


def schedule_runs_sweep(*, now=None) -> int:
    """Re-publish runs still queued after a while (their publish was lost) and fail those solving for far too
    long (their worker died; staff can run again). Returns how many runs it touched."""
    now = now or timezone.now()
    with transaction.atomic():
        queued = list(
            locked(
                ScheduleRun.objects.filter(status=ScheduleRun.Status.QUEUED, queued_at__lte=now - RUN_REPUBLISH_AFTER),
                skip_locked=True,
            ).values_list("pk", flat=True)
        )
        stuck = list(
            locked(
                ScheduleRun.objects.filter(status=ScheduleRun.Status.SOLVING, solving_at__lte=now - RUN_STUCK_AFTER),
                skip_locked=True,
            )
        )
        for run in stuck:
            _run_fail(run=run, error=ScheduleRun.Error.WORKER_LOST, now=now)
        for run_id in queued:
            transaction.on_commit(lambda run_id=run_id: _run_publish(run_id=run_id))
    return len(queued) + len(stuck)


def meeting_set_locked(*, meeting: Meeting, by, locked: bool) -> Meeting:
    with transaction.atomic():
        _config_locked(meeting.event)
        meeting = lock_one(meeting)
        if locked:
            meeting.lock()
        else:
            meeting.locked = False
        meeting.save(update_fields=["locked"])
        _input_changed(event_id=meeting.event_id)
        audit_record(
            actor=by, action="matchmaking.meeting_lock" if locked else "matchmaking.meeting_unlock", target=meeting
        )
    return meeting


def meeting_record_outcome(*, meeting: Meeting, by, outcome: str) -> Meeting:
    with transaction.atomic():
        meeting = lock_one(meeting)
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
