"""A participant leaving matchmaking (their registration cancelled): meetings and open requests end, each
counterpart is told once in their own language, and the scheduler never places the meeting again."""

import pytest

from events.matchmaking import services
from events.models import Meeting, MeetingRequest
from events.services import registration_cancel
from outbox.models import OutboxMessage
from tests.factories import MatchmakingEventFactory, StaffFactory, matchmaking_profile

pytestmark = pytest.mark.django_db

WITHDRAWN = "events/matchmaking/email/participant_withdrawn"


@pytest.fixture
def scene():
    event = MatchmakingEventFactory()
    services.session_create(event=event, starts_at=event.starts_at, slot_minutes=30, slot_count=3)
    leaver = matchmaking_profile(event=event)
    met = matchmaking_profile(event=event, language="en")
    asker = matchmaking_profile(event=event)
    asked = matchmaking_profile(event=event)
    request = services.request_send(sender=leaver, recipient=met, message="Shall we talk about trials?")
    services.request_accept(request=request, by=met.user)
    services.request_send(sender=asker, recipient=leaver, message="We would like to meet you.")
    services.request_send(sender=leaver, recipient=asked, message="Could we meet at the event?")
    services.schedule_run(event=event, by=StaffFactory())
    OutboxMessage.objects.all().delete()
    return event, leaver, met, asker, asked


def test_cancelling_a_registration_cancels_meetings_and_requests(scene):
    event, leaver, *_ = scene
    assert Meeting.objects.filter(event=event, slot__isnull=False).count() == 1
    registration_cancel(registration=leaver.registration)
    assert (
        Meeting.objects.filter(event=event).count(),
        sorted(MeetingRequest.objects.filter(event=event).values_list("status", flat=True)),
    ) == (0, ["cancelled", "cancelled", "cancelled"])


def test_each_counterpart_is_told_once_in_their_language(scene):
    event, leaver, met, asker, asked = scene
    registration_cancel(registration=leaver.registration)
    registration_cancel(registration=met.registration)  # a second withdrawal must not tell the leaver again
    mails = OutboxMessage.objects.filter(template=WITHDRAWN).order_by("to")
    expected = sorted(
        [
            (met.user.email, "en", f"{leaver.display_name} no longer takes part in matchmaking at {event.title}"),
            (asker.user.email, "da", f"{leaver.display_name} deltager ikke længere i matchmaking til {event.title}"),
            (asked.user.email, "da", f"{leaver.display_name} deltager ikke længere i matchmaking til {event.title}"),
        ]
    )
    assert [(m.to, m.language, m.subject) for m in mails] == expected
    assert all(m.dedupe_key for m in mails)


def test_a_withdrawal_tells_a_counterpart_only_once(scene):
    _event, leaver, met, *_ = scene
    services.participant_withdraw(profile=leaver)
    services.participant_withdraw(profile=leaver)
    assert OutboxMessage.objects.filter(template=WITHDRAWN, to=met.user.email).count() == 1


def test_running_the_scheduler_again_does_not_place_the_cancelled_meeting(scene):
    event, leaver, *_ = scene
    registration_cancel(registration=leaver.registration)
    run = services.schedule_run(event=event, by=StaffFactory())
    assert (run.result.placed_count, Meeting.objects.filter(event=event).count()) == (0, 0)


def test_the_mail_names_what_was_cancelled(scene):
    event, leaver, met, asker, _asked = scene
    slot = Meeting.objects.get(event=event).slot
    registration_cancel(registration=leaver.registration)
    to_met = OutboxMessage.objects.get(template=WITHDRAWN, to=met.user.email).body_text
    to_asker = OutboxMessage.objects.get(template=WITHDRAWN, to=asker.user.email).body_text
    assert (f"- your meeting at {slot}" in to_met, "- en ubesvaret mødeforespørgsel" in to_asker) == (True, True)
