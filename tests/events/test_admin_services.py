"""The events admin writes through the services: adding audits through event_create, a change through
event_update, a status move through its own service (publish, cancel with its message to the registrants), and a
move the rules forbid is refused with a message, saving nothing."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import AuditEntry
from events import services
from events.models import Event, InvalidTransition, Registration
from outbox.models import OutboxMessage
from tests.factories import EventFactory, event_hub

pytestmark = pytest.mark.django_db
EVENTS = "/en/admin/events/event/"
REGISTRATIONS = "/en/admin/events/registration/"


def sign_up(event, n):
    return services.registration_create(event=event, full_name=f"Person {n}", email=f"p{n}@example.com", language="en")


def audit(action):
    return [(entry.actor_id, entry.target_id, entry.data) for entry in AuditEntry.objects.filter(action=action)]


def change_form(staff_client, event, **changes):
    """The event's change form as the admin shows it, with `changes` typed in."""
    form = staff_client.get(f"{EVENTS}{event.pk}/change/").context["adminform"].form
    data = {
        key: value
        for key, value in form.initial.items()
        if value is not None and key in form.fields and key not in ("partners", "image")
    }
    for name in ("starts_at", "ends_at"):
        moment = timezone.localtime(getattr(event, name))
        data.pop(name)
        data.update({f"{name}_0": moment.strftime("%Y-%m-%d"), f"{name}_1": moment.strftime("%H:%M:%S")})
    for name in ("registration_opens_at", "registration_closes_at", "member_reserved_until"):
        data.pop(name, None)
    data.update(
        {
            # A field with a callable default is posted with its initial value, as the browser does.
            "reminder_offsets_hours": "[168, 24]",
            "initial-reminder_offsets_hours": "[168, 24]",
            "hub": event.hub_id,
            "questions-TOTAL_FORMS": 0,
            "questions-INITIAL_FORMS": 0,
            "registrations-TOTAL_FORMS": 0,
            "registrations-INITIAL_FORMS": 0,
            **changes,
        }
    )
    return data


def messages_of(response):
    return [str(message) for message in response.context["messages"]]


def test_adding_an_event_in_the_admin_goes_through_event_create(staff_client):
    start = timezone.localtime() + timedelta(days=30)
    response = staff_client.post(
        f"{EVENTS}add/",
        {
            "title_da": "Nyt arrangement",
            "title_en": "New event",
            "slug": "nyt-arrangement",
            "kind": "workshop",
            "status": "published",
            "hub": event_hub("aarhus").pk,
            "starts_at_0": start.strftime("%Y-%m-%d"),
            "starts_at_1": "10:00:00",
            "ends_at_0": start.strftime("%Y-%m-%d"),
            "ends_at_1": "12:00:00",
            "audience": "public",
            "price_dkk": 0,
            "member_price_dkk": 0,
            "member_reserved_seats": 0,
            "reminder_offsets_hours": "[24]",
            "questions-TOTAL_FORMS": 0,
            "questions-INITIAL_FORMS": 0,
            "registrations-TOTAL_FORMS": 0,
            "registrations-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    event = Event.objects.get()
    assert (event.title_en, event.status) == ("New event", "published")
    assert audit("events.event.create") == [(staff_client.staff.pk, str(event.pk), {"status": "published"})]


def test_a_new_event_is_not_offered_as_cancelled(staff_client):
    form = staff_client.get(f"{EVENTS}add/").context["adminform"].form
    assert [value for value, _label in form.fields["status"].widget.choices] == ["draft", "published"]
    assert "cancellation_message" not in form.fields


def test_a_change_in_the_admin_is_audited_by_event_update(staff_client):
    event = EventFactory(title_en="Before")
    response = staff_client.post(f"{EVENTS}{event.pk}/change/", change_form(staff_client, event, title_en="After"))
    event.refresh_from_db()
    assert (response.status_code, event.title_en) == (302, "After")
    assert audit("events.event.update") == [(staff_client.staff.pk, str(event.pk), {"fields": ["title_en"]})]


def test_publishing_a_draft_in_the_admin_goes_through_event_publish(staff_client):
    event = EventFactory(status="draft")
    response = staff_client.post(f"{EVENTS}{event.pk}/change/", change_form(staff_client, event, status="published"))
    event.refresh_from_db()
    assert (response.status_code, event.status) == (302, "published")
    assert audit("events.event.publish") == [(staff_client.staff.pk, str(event.pk), {})]
    assert audit("events.event.update") == []


def test_a_published_event_offers_only_cancelling(staff_client):
    event = EventFactory()
    form = staff_client.get(f"{EVENTS}{event.pk}/change/").context["adminform"].form
    assert [value for value, _label in form.fields["status"].widget.choices] == ["published", "cancelled"]


def test_cancelling_in_the_admin_form_sends_the_message_and_audits_the_reason(staff_client):
    event = EventFactory()
    sign_up(event, 1)
    response = staff_client.post(
        f"{EVENTS}{event.pk}/change/",
        change_form(staff_client, event, status="cancelled", cancellation_message="The venue flooded."),
        follow=True,
    )
    event.refresh_from_db()
    assert (event.status, event.cancellation_reason) == ("cancelled", "The venue flooded.")
    assert "1 registrant was told." in messages_of(response)
    assert audit("events.event.cancel") == [(staff_client.staff.pk, str(event.pk), {"reason": "The venue flooded."})]
    mail = OutboxMessage.objects.get(template="events/email/event_cancelled")
    assert (mail.to, "The venue flooded." in mail.body_text) == ("p1@example.com", True)


def test_a_cancelled_event_shows_its_status_and_message_read_only(staff_client):
    event = EventFactory()
    services.event_cancel(event=event, actor=None, reason="Storm")
    response = staff_client.get(f"{EVENTS}{event.pk}/change/")
    form = response.context["adminform"].form
    assert ("status" in form.fields, "cancellation_message" in form.fields) == (False, False)
    assert "Storm" in response.content.decode()


def test_an_illegal_status_move_is_refused_with_a_message_and_nothing_is_saved(staff_client):
    event = EventFactory(title_en="Before")
    sign_up(event, 1)
    data = change_form(staff_client, event, status="draft", title_en="After")
    response = staff_client.post(f"{EVENTS}{event.pk}/change/", data)
    event.refresh_from_db()
    assert (response.status_code, event.status, event.title_en) == (200, "published", "Before")
    assert response.context["adminform"].form.errors["status"] == ["An event cannot go from “Published” to “Draft”."]
    assert AuditEntry.objects.filter(action__startswith="events.event.").count() == 0


def test_a_cancellation_message_without_cancelling_is_refused(staff_client):
    event = EventFactory()
    response = staff_client.post(
        f"{EVENTS}{event.pk}/change/", change_form(staff_client, event, cancellation_message="Why?")
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["cancellation_message"] == [
        "Write a message only when you cancel the event."
    ]


def test_event_update_refuses_reopening_a_cancelled_event_and_saves_nothing():
    event = EventFactory(title_en="Before")
    services.event_cancel(event=event, actor=None)
    with pytest.raises(InvalidTransition) as refused:
        services.event_update(event=event, actor=None, changes={"status": "published", "title_en": "After"})
    assert str(refused.value) == "Et arrangement kan ikke gå fra “Aflyst” til “Offentliggjort”."
    event.refresh_from_db()
    assert (event.status, event.title_en) == ("cancelled", "Before")


def test_the_cancel_action_reports_an_event_already_cancelled(staff_client):
    event = EventFactory(title_en="Storm day")
    services.event_cancel(event=event, actor=None)
    response = staff_client.post(
        EVENTS,
        {"action": "cancel_events", "_selected_action": [event.pk], "apply": "1", "reason": "Again"},
        follow=True,
    )
    assert messages_of(response) == ["Storm day: The event is already cancelled."]


def test_a_refused_promotion_names_the_person_and_their_status(staff_client):
    event = EventFactory()
    confirmed = sign_up(event, 1)
    response = staff_client.post(
        REGISTRATIONS,
        {"action": "promote", "_selected_action": [confirmed.pk], "apply": "1", "reason": "VIP"},
        follow=True,
    )
    assert messages_of(response) == ["Person 1: not possible from “Confirmed”."]
    assert Registration.objects.get().status == "confirmed"


def test_mark_no_shows_reports_an_event_not_over(staff_client):
    event = EventFactory(title_en="Tomorrow")
    response = staff_client.post(EVENTS, {"action": "mark_no_shows", "_selected_action": [event.pk]}, follow=True)
    assert messages_of(response) == ["Tomorrow: not over yet."]
