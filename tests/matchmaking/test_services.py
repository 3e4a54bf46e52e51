"""Matchmaking services against PostgreSQL: requests and their mail, expiry, the cap, schedule runs, late fits."""

from datetime import timedelta

import pytest
from django.utils import timezone
from icalendar import Calendar

from events.matchmaking import services
from events.models import Meeting, MeetingRequest, Profile, Unavailability
from outbox.models import OutboxMessage
from tests.factories import MatchmakingEventFactory, MatchmakingRegistrationFactory, StaffFactory, matchmaking_profile

pytestmark = pytest.mark.django_db


@pytest.fixture
def event():
    return MatchmakingEventFactory()


@pytest.fixture
def pair(event):
    return matchmaking_profile(event=event), matchmaking_profile(event=event)


def with_slots(event, count=2):
    services.session_create(event=event, starts_at=event.starts_at, slot_minutes=30, slot_count=count)
    return list(event.meeting_slots.order_by("index"))


def accepted(sender, recipient):
    request = services.request_send(sender=sender, recipient=recipient, message="Let us talk about validation.")
    services.request_accept(request=request, by=recipient.user)
    return Meeting.objects.get(request=request)


def test_profile_create_fills_in_from_the_organisation(event):
    from members.models import Organisation, Tag

    tag = Tag.objects.create(slug="clinical-validation", name="Clinical validation")
    organisation = Organisation.objects.create(legal_name="Medico ApS", name="Medico", offers_da="Vi tester udstyr")
    organisation.offer_tags.add(tag)
    registration = MatchmakingRegistrationFactory(event=event, organisation=organisation)
    profile = services.profile_create(registration=registration)
    assert (profile.organisation_name, profile.offers_da, list(profile.offer_tags.all())) == (
        "Medico",
        "Vi tester udstyr",
        [tag],
    )


def test_profile_create_refuses_a_waitlisted_participant(event):
    registration = MatchmakingRegistrationFactory(event=event, status="waitlisted")
    with pytest.raises(services.MatchmakingError):
        services.profile_create(registration=registration)


def test_request_send_mails_the_recipient_in_their_language(pair):
    sender, recipient = pair
    services.request_send(sender=sender, recipient=recipient, message="Let us talk about validation.")
    mail = OutboxMessage.objects.get()
    assert (mail.to, mail.language, mail.subject) == (
        recipient.user.email,
        "da",
        f"{sender.display_name} vil gerne mødes med dig til {sender.event.title}",
    )


def test_request_send_sets_expiry_from_the_event(pair):
    sender, recipient = pair
    now = timezone.now()
    request = services.request_send(sender=sender, recipient=recipient, message="Hello there, shall we?", now=now)
    assert request.expires_at == now + timedelta(hours=72)


def test_a_second_live_request_between_the_same_pair_is_refused(pair):
    sender, recipient = pair
    services.request_send(sender=sender, recipient=recipient, message="Hello there, shall we?")
    with pytest.raises(services.MatchmakingError):
        services.request_send(sender=recipient, recipient=sender, message="Hello back, shall we?")


def test_pending_requests_are_capped_per_event(event):
    event.matchmaking.max_pending_requests = 2
    event.matchmaking.save()
    sender = matchmaking_profile(event=event)
    for _ in range(2):
        services.request_send(sender=sender, recipient=matchmaking_profile(event=event), message="Hello there!")
    with pytest.raises(services.MatchmakingError):
        services.request_send(sender=sender, recipient=matchmaking_profile(event=event), message="Hello there!")


def test_only_the_recipient_can_accept(pair):
    sender, recipient = pair
    request = services.request_send(sender=sender, recipient=recipient, message="Hello there, shall we?")
    with pytest.raises(services.MatchmakingError):
        services.request_accept(request=request, by=sender.user)


def test_accept_creates_a_meeting_and_mails_the_sender(pair):
    sender, recipient = pair
    meeting = accepted(sender, recipient)
    assert (meeting.first, meeting.second, OutboxMessage.objects.filter(to=sender.user.email).count()) == (
        sender,
        recipient,
        1,
    )


def test_decline_mails_the_sender(pair):
    sender, recipient = pair
    request = services.request_send(sender=sender, recipient=recipient, message="Hello there, shall we?")
    services.request_decline(request=request, by=recipient.user)
    request.refresh_from_db()
    assert (request.status, OutboxMessage.objects.filter(to=sender.user.email).count()) == ("declined", 1)


def test_requests_expire_after_their_time_and_tell_the_sender(pair):
    sender, recipient = pair
    request = services.request_send(sender=sender, recipient=recipient, message="Hello there, shall we?")
    assert services.requests_expire(now=request.expires_at - timedelta(seconds=1)) == 0
    assert services.requests_expire(now=request.expires_at) == 1
    request.refresh_from_db()
    assert (request.status, OutboxMessage.objects.filter(to=sender.user.email).count()) == ("expired", 1)


def test_an_expired_request_cannot_be_accepted(pair):
    sender, recipient = pair
    request = services.request_send(sender=sender, recipient=recipient, message="Hello there, shall we?")
    with pytest.raises(services.MatchmakingError):
        services.request_accept(request=request, by=recipient.user, now=request.expires_at)


def test_schedule_run_places_meetings_and_mails_changed_agendas(event):
    slots = with_slots(event, 2)
    a, b, c = (matchmaking_profile(event=event) for _ in range(3))
    accepted(a, b)
    accepted(b, c)
    OutboxMessage.objects.all().delete()
    run = services.schedule_run(event=event, by=StaffFactory())
    placed = Meeting.objects.filter(slot__isnull=False)
    assert (run.result.placed_count, placed.count(), {m.slot for m in placed}, OutboxMessage.objects.count()) == (
        2,
        2,
        set(slots),
        3,
    )


def test_schedule_run_keeps_a_locked_meeting(event):
    slots = with_slots(event, 3)
    a, b = matchmaking_profile(event=event), matchmaking_profile(event=event)
    meeting = accepted(a, b)
    Meeting.objects.filter(pk=meeting.pk).update(slot=slots[2], table=3)
    services.meeting_set_locked(meeting=meeting, by=StaffFactory(), locked=True)
    services.schedule_run(event=event, by=StaffFactory())
    meeting.refresh_from_db()
    assert (meeting.slot, meeting.table) == (slots[2], 3)


def test_a_late_acceptance_is_fitted_without_moving_placed_meetings(event):
    slots = with_slots(event, 2)
    a, b, c = (matchmaking_profile(event=event) for _ in range(3))
    first = accepted(a, b)
    services.schedule_run(event=event, by=StaffFactory())
    first.refresh_from_db()
    late = accepted(a, c)
    late.refresh_from_db()
    first_again = Meeting.objects.get(pk=first.pk)
    assert ((first_again.slot, first_again.table), late.slot) == (
        (first.slot, first.table),
        next(s for s in slots if s != first.slot),
    )


def test_marking_a_slot_unavailable_where_you_have_a_meeting_is_refused(event):
    slots = with_slots(event, 1)
    a, b = matchmaking_profile(event=event), matchmaking_profile(event=event)
    accepted(a, b)
    services.schedule_run(event=event, by=StaffFactory())
    with pytest.raises(services.MatchmakingError):
        services.availability_set(profile=a, unavailable_slots=slots)
    assert Unavailability.objects.count() == 0


def test_feedback_only_from_the_two_at_the_meeting(event):
    with_slots(event, 1)
    a, b = matchmaking_profile(event=event), matchmaking_profile(event=event)
    meeting = accepted(a, b)
    outsider = matchmaking_profile(event=event)
    with pytest.raises(services.MatchmakingError):
        services.feedback_submit(meeting=meeting, profile=outsider, happened=True)


def test_profiles_are_one_per_user_and_event(event):
    registration = MatchmakingRegistrationFactory(event=event)
    services.profile_create(registration=registration)
    with pytest.raises(services.MatchmakingError):
        services.profile_create(registration=registration)
    assert Profile.objects.count() == 1


def test_request_statuses_are_the_five_states():
    assert [s.value for s in MeetingRequest.Status] == ["pending", "accepted", "declined", "expired", "cancelled"]


def test_staff_may_let_a_late_meeting_move_others(event):
    slots = with_slots(event, 2)
    a, b, c = (matchmaking_profile(event=event) for _ in range(3))
    first = accepted(a, b)
    Meeting.objects.filter(pk=first.pk).update(slot=slots[0], table=1)
    services.availability_set(profile=c, unavailable_slots=[slots[1]])
    event.matchmaking.scheduled_at = timezone.now()
    event.matchmaking.save()
    late = accepted(a, c)
    late.refresh_from_db()
    assert late.slot is None
    fit = services.meeting_fit_late(meeting=late, by=StaffFactory(), allow_move=True)
    first.refresh_from_db()
    late.refresh_from_db()
    assert (fit.moved, first.slot, late.slot) == ([first.pk], slots[1], slots[0])


def test_agendas_go_out_once_on_the_day_before(event):
    with_slots(event, 1)
    a, b = matchmaking_profile(event=event), matchmaking_profile(event=event)
    accepted(a, b)
    services.schedule_run(event=event, by=StaffFactory())
    OutboxMessage.objects.all().delete()
    day_before = event.starts_at - timedelta(days=1)
    assert (services.agendas_send_day_before(now=day_before), services.agendas_send_day_before(now=day_before)) == (
        2,
        0,
    )


def test_both_sides_are_asked_for_feedback_once_after_the_event(event):
    with_slots(event, 1)
    a, b = matchmaking_profile(event=event), matchmaking_profile(event=event)
    accepted(a, b)
    services.schedule_run(event=event, by=StaffFactory())
    after = event.ends_at + timedelta(hours=1)
    assert (services.feedback_requests_send(now=after), services.feedback_requests_send(now=after)) == (2, 0)


def test_nobody_is_asked_for_feedback_before_the_event_ends(event):
    with_slots(event, 1)
    a, b = matchmaking_profile(event=event), matchmaking_profile(event=event)
    accepted(a, b)
    services.schedule_run(event=event, by=StaffFactory())
    assert services.feedback_requests_send(now=event.ends_at - timedelta(minutes=1)) == 0


def test_the_day_before_mail_carries_the_agenda_as_ics(event):
    with_slots(event, 1)
    a, b = matchmaking_profile(event=event), matchmaking_profile(event=event)
    accepted(a, b)
    services.schedule_run(event=event, by=StaffFactory())
    OutboxMessage.objects.all().delete()
    services.agendas_send_day_before(now=event.starts_at - timedelta(days=1))
    mail = OutboxMessage.objects.get(to=a.user.email)
    [attachment] = mail.attachments
    [entry] = Calendar.from_ical(attachment["content"]).walk("VEVENT")
    assert (attachment["filename"], str(entry["summary"])) == (f"agenda-{event.slug}.ics", f"Møde med {b}")


def test_schedule_run_during_the_event_skips_the_slot_that_has_begun(event):
    slots = with_slots(event, 2)
    a, b = matchmaking_profile(event=event), matchmaking_profile(event=event)
    meeting = accepted(a, b)
    services.schedule_run(event=event, by=StaffFactory(), now=slots[0].starts_at + timedelta(minutes=5))
    meeting.refresh_from_db()
    assert meeting.slot == slots[1]


def test_a_meeting_accepted_during_the_event_goes_to_a_slot_that_has_not_begun(event):
    slots = with_slots(event, 3)
    a, b = matchmaking_profile(event=event), matchmaking_profile(event=event)
    event.matchmaking.scheduled_at = timezone.now()
    event.matchmaking.save()
    request = services.request_send(
        sender=a, recipient=b, message="Let us talk about validation.", now=slots[0].starts_at
    )
    services.request_accept(request=request, by=b.user, now=slots[1].starts_at)
    assert Meeting.objects.get(request=request).slot == slots[2]


def test_requests_sent_before_the_event_expire_when_it_ends(event):
    a, b = matchmaking_profile(event=event), matchmaking_profile(event=event)
    request = services.request_send(
        sender=a, recipient=b, message="Let us talk about validation.", now=event.ends_at - timedelta(hours=1)
    )
    assert request.expires_at == event.ends_at


def test_no_request_can_be_sent_after_the_event(event):
    a, b = matchmaking_profile(event=event), matchmaking_profile(event=event)
    with pytest.raises(services.MatchmakingError, match="Arrangementet er slut"):
        services.request_send(sender=a, recipient=b, message="Let us talk about validation.", now=event.ends_at)
    assert MeetingRequest.objects.count() == 0


def test_a_request_cannot_be_accepted_after_the_event(event):
    a, b = matchmaking_profile(event=event), matchmaking_profile(event=event)
    request = services.request_send(sender=a, recipient=b, message="Let us talk about validation.")
    # A request written before requests were bounded by the event's end.
    MeetingRequest.objects.filter(pk=request.pk).update(expires_at=event.ends_at + timedelta(days=3))
    with pytest.raises(services.MatchmakingError):
        services.request_accept(request=request, by=b.user, now=event.ends_at + timedelta(minutes=1))
    assert (Meeting.objects.count(), MeetingRequest.objects.get().status) == (0, "pending")


def placed(event):
    slots = with_slots(event, 1)
    a, b = matchmaking_profile(event=event), matchmaking_profile(event=event)
    meeting = accepted(a, b)
    services.schedule_run(event=event, by=StaffFactory())
    return slots[0], a, Meeting.objects.get(pk=meeting.pk)


def test_feedback_is_refused_before_the_meeting_slot_has_ended(event):
    slot, a, meeting = placed(event)
    with pytest.raises(services.MatchmakingError, match="efter mødet"):
        services.feedback_submit(meeting=meeting, profile=a, happened=True, now=slot.ends_at - timedelta(minutes=1))
    assert meeting.feedback.count() == 0


def test_feedback_can_be_changed_for_14_days_after_the_meeting(event):
    slot, a, meeting = placed(event)
    services.feedback_submit(meeting=meeting, profile=a, happened=False, now=slot.ends_at)
    services.feedback_submit(
        meeting=meeting, profile=a, happened=True, result="deal", now=slot.ends_at + timedelta(days=13, hours=23)
    )
    assert list(meeting.feedback.values_list("happened", "result")) == [(True, "deal")]


def test_feedback_closes_14_days_after_the_meeting(event):
    slot, a, meeting = placed(event)
    services.feedback_submit(meeting=meeting, profile=a, happened=False, now=slot.ends_at)
    with pytest.raises(services.MatchmakingError, match="er lukket"):
        services.feedback_submit(meeting=meeting, profile=a, happened=True, now=slot.ends_at + timedelta(days=14))
    assert list(meeting.feedback.values_list("happened", flat=True)) == [False]
