"""Reminders: due once per registration and offset, never to cancelled or waitlisted people."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from events import services
from events.tasks import event_reminders_task
from outbox.models import OutboxMessage
from tests.factories import EventFactory

pytestmark = pytest.mark.django_db


def signed_up_event(*, starts_in, capacity=None, people=1, registered_ago=timedelta(days=20)):
    event = EventFactory(starts_at=timezone.now() + starts_in, capacity=capacity)
    registrations = [
        services.registration_create(
            event=event,
            full_name=f"P {n}",
            email=f"r{n}@example.com",
            language="en",
            now=timezone.now() - registered_ago,
        )
        for n in range(people)
    ]
    return event, registrations


def reminders():
    return OutboxMessage.objects.filter(template="events/email/reminder")


def test_running_the_reminder_task_twice_sends_one():
    signed_up_event(starts_in=timedelta(hours=20))
    first = event_reminders_task()
    second = event_reminders_task()
    assert (first, second, reminders().count()) == (1, 0, 1)


def test_reminder_carries_the_offset_in_its_dedupe_key():
    _, (registration,) = signed_up_event(starts_in=timedelta(hours=20))
    services.reminders_send_due()
    stamp = f"{registration.event.starts_at.astimezone(UTC):%Y%m%dT%H%MZ}"
    assert reminders().get().dedupe_key == f"event-reminder:{registration.pk}:{stamp}:24"


def test_the_seven_day_reminder_goes_out_six_days_before():
    signed_up_event(starts_in=timedelta(days=6))
    services.reminders_send_due()
    assert reminders().get().dedupe_key.endswith(":168")


def test_nothing_is_due_eight_days_before():
    signed_up_event(starts_in=timedelta(days=8))
    assert services.reminders_send_due() == 0


def test_each_offset_is_sent_once_across_the_weeks():
    _, (registration,) = signed_up_event(starts_in=timedelta(days=6))
    services.reminders_send_due()
    services.reminders_send_due(now=timezone.now() + timedelta(days=5, hours=2))
    services.reminders_send_due(now=timezone.now() + timedelta(days=5, hours=3))
    stamp = f"{registration.event.starts_at.astimezone(UTC):%Y%m%dT%H%MZ}"
    assert sorted(reminders().values_list("dedupe_key", flat=True)) == [
        f"event-reminder:{registration.pk}:{stamp}:168",
        f"event-reminder:{registration.pk}:{stamp}:24",
    ]


def test_cancelled_registrations_get_no_reminder():
    _, (registration,) = signed_up_event(starts_in=timedelta(hours=20))
    services.registration_cancel(registration=registration)
    assert services.reminders_send_due() == 0
    assert reminders().count() == 0


def test_waitlisted_registrations_get_no_reminder():
    signed_up_event(starts_in=timedelta(hours=20), capacity=1, people=2)
    assert services.reminders_send_due() == 1
    assert list(reminders().values_list("to", flat=True)) == ["r0@example.com"]


def test_a_cancelled_event_sends_no_reminders():
    event, _ = signed_up_event(starts_in=timedelta(hours=20))
    services.event_cancel(event=event, actor=None)
    assert services.reminders_send_due() == 0


def test_someone_who_registered_after_the_reminder_moment_gets_none():
    signed_up_event(starts_in=timedelta(hours=20), registered_ago=timedelta(hours=1))
    assert services.reminders_send_due() == 0


def test_offsets_are_set_per_event():
    event, _ = signed_up_event(starts_in=timedelta(hours=40))
    event.reminder_offsets_hours = [48]
    event.save()
    services.reminders_send_due()
    assert reminders().get().dedupe_key.endswith(":48")


# --- A postponed event: reminders follow its current start ------------------------------------------------------

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
FIRST_START = datetime(2031, 3, 14, 10, 0, tzinfo=COPENHAGEN)
NEW_START = datetime(2031, 3, 28, 13, 0, tzinfo=COPENHAGEN)


def _postpone(event, *, to):
    before = services.event_time_and_place(event)
    event.starts_at, event.ends_at = to, to + timedelta(hours=3)
    event.save()
    services.event_updated(event=event, before=before, actor=None, now=FIRST_START - timedelta(hours=20))


def _postponed_after_its_one_day_reminder():
    event = EventFactory(starts_at=FIRST_START, ends_at=FIRST_START + timedelta(hours=3), title_en="Biotech day")
    for n in range(2):
        services.registration_create(
            event=event,
            full_name=f"P {n}",
            email=f"r{n}@example.com",
            language="en",
            now=FIRST_START - timedelta(days=20),
        )
    assert services.reminders_send_due(now=FIRST_START - timedelta(hours=23)) == 2
    return event


def test_a_postponed_event_sends_each_person_one_new_reminder_with_the_new_date():
    event = _postponed_after_its_one_day_reminder()
    reminders().update(status=OutboxMessage.Status.SENT)
    _postpone(event, to=NEW_START)
    written_before_the_new_moment = services.reminders_send_due(now=FIRST_START - timedelta(hours=19))
    written = services.reminders_send_due(now=NEW_START - timedelta(hours=23))
    written_again = services.reminders_send_due(now=NEW_START - timedelta(hours=22))
    new = reminders().filter(status=OutboxMessage.Status.QUEUED).order_by("to")
    assert (written_before_the_new_moment, written, written_again) == (0, 2, 0)
    assert [message.to for message in new] == ["r0@example.com", "r1@example.com"]
    assert all("When: Friday 28 March 2031, 13:00–16:00" in message.body_text for message in new)


def test_a_reminder_still_queued_for_the_old_start_is_withdrawn_when_the_event_moves():
    event = _postponed_after_its_one_day_reminder()
    sent = reminders().order_by("to").first()
    reminders().filter(pk=sent.pk).update(status=OutboxMessage.Status.SENT)
    _postpone(event, to=NEW_START)
    assert list(reminders().values_list("to", "status")) == [("r0@example.com", "sent")]


def test_a_reminder_still_queued_when_the_event_is_cancelled_is_withdrawn():
    event = _postponed_after_its_one_day_reminder()
    services.event_cancel(event=event, actor=None)
    assert reminders().count() == 0
