"""Writes on events and registrations. Seats change only here, inside one transaction holding a row lock on the
event, so concurrent sign-ups, cancellations and promotions are serialised per event and never overbook."""

from datetime import UTC, timedelta

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from accounts.audit import audit_record
from common.errors import DomainError
from common.locks import lock_one
from events.calendars import ics_attachment
from events.matchmaking.services import participant_withdraw
from events.models import ANONYMISED_EMAIL_DOMAIN, Answer, Event, InvalidTransition, Profile, Question, Registration
from events.selectors import confirmed_counts, seats_left, waitlist_position
from newsletters.models import ConsentRecord
from newsletters.subscriptions import subscription_request
from outbox.api import dedupe_keys_taken, mail_enqueue, mail_withdraw

Status = Registration.Status
LINK_SIGNING_SALT = "events.registration"
# Changing any of these after publication tells every registrant, with a fresh calendar entry.
TIME_AND_PLACE_FIELDS = ("starts_at", "ends_at", "venue_name_da", "venue_name_en", "venue_address", "online_url")
REMINDER_KEY_PREFIX = "event-reminder:"


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


# --- Tokens -------------------------------------------------------------------------------------------------------


def registration_token(registration: Registration) -> str:
    return signing.dumps({"r": registration.pk}, salt=LINK_SIGNING_SALT, compress=True)


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


def _mail_registration(*, registration: Registration, name: str, dedupe_key: str | None = None, **extra):
    """One mail about one registration, rendered in the registrant's language. A confirmed participant's calendar
    attachment carries the online link; everyone else's does not."""
    event = registration.event
    confirmed = registration.status == Status.CONFIRMED
    attachments = None
    if name in ("registration_confirmed", "registration_promoted", "event_changed", "event_cancelled", "reminder"):
        with translation.override(registration.language):
            attachments = [ics_attachment(event, include_online_link=confirmed)]
    return mail_enqueue(
        template=f"events/email/{name}",
        to=registration.email,
        language=registration.language,
        context={
            "event": event,
            "registration": registration,
            "manage_url": registration_manage_url(registration),
            "event_url": settings.SITE_URL + _localized_path(event, registration.language),
            "show_online_link": confirmed and bool(event.online_url),
            **extra,
        },
        attachments=attachments,
        dedupe_key=dedupe_key,
    )


def _localized_path(event: Event, language: str) -> str:
    with translation.override(language):
        return event.get_absolute_url()


# --- Sign-up, cancellation and the waitlist -------------------------------------------------------------------------


def _event_lock(event: Event) -> Event:
    return lock_one(event)


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


def registration_create(
    *,
    event: Event,
    full_name: str,
    email: str,
    language: str,
    organisation_name: str = "",
    job_title: str = "",
    user=None,
    organisation=None,
    is_member: bool = False,
    answers: dict | None = None,
    newsletter_opt_in: bool = False,
    ip_address: str | None = None,
    now=None,
) -> Registration:
    """Confirm while seats are left (counting seats held for members), otherwise waitlist; mail the outcome.

    The row lock on the event is taken first, so the seat count and the insert are one step for every
    concurrent caller; the unique constraint on (event, email) backs the duplicate check."""
    now = now or timezone.now()
    email = email.strip().lower()
    # Everything that does not depend on seats is checked before the lock, which is then held as briefly as can be.
    cleaned_answers = _answers_clean(questions=list(event.questions.prefetch_related("options")), answers=answers or {})
    with transaction.atomic():
        event = _event_lock(event)
        if not event.registration_is_open(now=now):
            raise RegistrationClosed()
        if event.is_members_only and not is_member:
            raise MembersOnly()
        if Registration.objects.filter(event=event, email=email).exclude(status=Status.CANCELLED).exists():
            raise AlreadyRegistered()
        registration = Registration(
            event=event,
            user=user,
            organisation=organisation,
            full_name=full_name.strip(),
            email=email,
            organisation_name=organisation_name.strip(),
            job_title=job_title.strip(),
            language=language,
            is_member=is_member,
            consent_at=now,
            newsletter_opt_in=newsletter_opt_in,
            newsletter_opt_in_at=now if newsletter_opt_in else None,
            created_at=now,
        )
        confirmed, confirmed_members = confirmed_counts(event=event)
        left = seats_left(
            event=event, is_member=is_member, confirmed=confirmed, confirmed_members=confirmed_members, now=now
        )
        if left is None or left > 0:
            registration.confirm(now=now)
        else:
            registration.waitlist(now=now)
        try:
            with transaction.atomic():
                registration.save()
        except IntegrityError as exc:
            raise AlreadyRegistered() from exc
        _answers_write(registration=registration, cleaned=cleaned_answers)
        if newsletter_opt_in:
            # Double opt-in: the newsletter sends its own confirmation mail; nothing is sent before it is confirmed.
            subscription_request(
                email=email,
                name=registration.full_name,
                language=language,
                source=ConsentRecord.Source.EVENT,
                ip_address=ip_address,
            )
        if registration.status == Status.CONFIRMED:
            _mail_registration(registration=registration, name="registration_confirmed")
        else:
            _mail_registration(
                registration=registration,
                name="registration_waitlisted",
                position=waitlist_position(registration=registration),
            )
    return registration


def _waitlist_fill(*, event: Event, now, exclude_pk: int | None = None) -> list[Registration]:
    """Promote from the head of the waitlist while seats are left. Call only while holding the event lock.

    A non-member waiting behind a seat held for members is passed over for a member further down, as the hold
    intends; when even a member could not get a seat, nobody can, and the walk stops."""
    if event.status != Event.Status.PUBLISHED or event.starts_at <= now:
        return []
    confirmed, confirmed_members = confirmed_counts(event=event)
    waiting = event.registrations.filter(status=Status.WAITLISTED).order_by("waitlisted_at", "pk")
    if exclude_pk is not None:
        waiting = waiting.exclude(pk=exclude_pk)
    promoted = []
    for registration in waiting:
        counts = {"confirmed": confirmed, "confirmed_members": confirmed_members, "now": now}
        if seats_left(event=event, is_member=True, **counts) == 0:
            break
        if seats_left(event=event, is_member=registration.is_member, **counts) == 0:
            continue
        registration.event = event
        registration.confirm(now=now)
        registration.save(update_fields=["status", "confirmed_at"])
        _mail_registration(registration=registration, name="registration_promoted")
        confirmed += 1
        confirmed_members += int(registration.is_member)
        promoted.append(registration)
    return promoted


def registration_cancel(*, registration: Registration, actor=None, reason: str = "", now=None) -> list[Registration]:
    """Cancel a registration (by its owner's signed link, their account page or staff); a freed seat goes to the
    waitlist at once. Returns the registrations promoted. Raises InvalidTransition when already cancelled."""
    now = now or timezone.now()
    with transaction.atomic():
        event = _event_lock(registration.event)
        registration = Registration.objects.select_for_update().get(pk=registration.pk)
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
        _mail_registration(registration=registration, name="registration_cancelled")
        profile = Profile.objects.filter(registration=registration).first()
        if profile is not None:
            participant_withdraw(profile=profile, by=actor, now=now)
        promoted = _waitlist_fill(event=event, now=now) if previous == Status.CONFIRMED else []
    return promoted


def registration_anonymise(*, registration: Registration) -> Registration:
    """Strip the person from a registration, keeping what statistics need: event, status, organisation,
    member flag, language and attendance. The answers go (they may say anything). Reusable for retention."""
    with transaction.atomic():
        registration = Registration.objects.select_for_update().get(pk=registration.pk)
        registration.user = None
        registration.full_name = ""
        # Unique per event among live rows, so each anonymised row gets an address of its own that reaches no one.
        registration.email = f"anonymised-{registration.pk}{ANONYMISED_EMAIL_DOMAIN}"
        registration.job_title = ""
        # Marked as retention marks it, so the scheduled run neither counts nor repeats it.
        registration.anonymised_at = timezone.now()
        registration.save(update_fields=["user", "full_name", "email", "job_title", "anonymised_at"])
        Answer.objects.filter(registration=registration).delete()
    return registration


def registration_promote(*, registration: Registration, actor, reason: str, now=None) -> Registration:
    """Staff give a waitlisted person a seat. This is a deliberate decision and may go beyond the capacity;
    it is logged with the reason."""
    now = now or timezone.now()
    with transaction.atomic():
        event = _event_lock(registration.event)
        registration = Registration.objects.select_for_update().get(pk=registration.pk)
        if registration.status != Status.WAITLISTED:
            raise InvalidTransition("only a waitlisted registration can be promoted")
        registration.event = event
        registration.confirm(now=now)
        registration.save(update_fields=["status", "confirmed_at"])
        audit_record(actor=actor, action="events.registration.promote", target=registration, data={"reason": reason})
        _mail_registration(registration=registration, name="registration_promoted")
    return registration


def registration_move_to_waitlist(*, registration: Registration, actor, reason: str, now=None) -> list[Registration]:
    """Staff move a confirmed participant to the end of the waitlist; the seat goes to the next in line."""
    now = now or timezone.now()
    with transaction.atomic():
        event = _event_lock(registration.event)
        registration = Registration.objects.select_for_update().get(pk=registration.pk)
        if registration.status != Status.CONFIRMED:
            raise InvalidTransition("only a confirmed registration can be moved to the waitlist")
        registration.event = event
        registration.waitlist(now=now)
        registration.save(update_fields=["status", "waitlisted_at", "confirmed_at"])
        audit_record(
            actor=actor, action="events.registration.move_to_waitlist", target=registration, data={"reason": reason}
        )
        _mail_registration(
            registration=registration,
            name="registration_waitlisted",
            position=waitlist_position(registration=registration),
        )
        return _waitlist_fill(event=event, now=now, exclude_pk=registration.pk)


def registration_check_in(*, registration: Registration, actor, now=None) -> Registration:
    with transaction.atomic():
        registration = Registration.objects.select_for_update().get(pk=registration.pk)
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
            told = event_cancel(event=stored, actor=actor, reason=cancellation_reason, now=now)
            stored.refresh_from_db()
        result = event_updated(event=stored, before=before, actor=actor, now=now)
    return {**result, "told": told}


def event_time_and_place(event: Event) -> dict:
    return {field: getattr(event, field) for field in TIME_AND_PLACE_FIELDS}


def event_updated(*, event: Event, before: dict, actor, now=None) -> dict:
    """After staff saved an event: tell every registrant when its time or place changed (with a new calendar
    revision), and give seats to the waitlist when the capacity grew."""
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
            for registration in event.registrations.filter(status__in=[Status.CONFIRMED, Status.WAITLISTED]):
                registration.event = event
                _mail_registration(registration=registration, name="event_changed")
                notified += 1
        promoted = _waitlist_fill(event=event, now=now)
    return {"changed": changed, "notified": notified, "promoted": len(promoted)}


def _reminders_withdraw(*, event: Event, starts_at) -> int:
    """Reminders written for a start the event no longer has (or for an event now cancelled), and not yet sent,
    are not sent."""
    pks = event.registrations.values_list("pk", flat=True)
    return mail_withdraw(
        dedupe_key_prefixes=[reminder_key_prefix(registration_pk=pk, starts_at=starts_at) for pk in pks]
    )


def event_cancel(*, event: Event, actor, reason: str = "", now=None) -> int:
    """Cancel the event and tell everyone still registered; returns how many were told."""
    now = now or timezone.now()
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
        for registration in registrations:
            registration.event = event
            _mail_registration(registration=registration, name="event_cancelled")
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
                # The lock keeps a cancellation from slipping in between the status check and the write.
                registration = Registration.objects.select_for_update().select_related("event").filter(pk=pk).first()
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
        with transaction.atomic():
            promoted += len(_waitlist_fill(event=_event_lock(event), now=now))
    return promoted
