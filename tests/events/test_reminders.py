"""Reminders: due once per registration and offset, never to cancelled or waitlisted people."""

from datetime import timedelta

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
    assert reminders().get().dedupe_key == f"event-reminder:{registration.pk}:24"


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
    assert sorted(reminders().values_list("dedupe_key", flat=True)) == [
        f"event-reminder:{registration.pk}:168",
        f"event-reminder:{registration.pk}:24",
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
