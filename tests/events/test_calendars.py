"""Calendar files and feeds, parsed back with the icalendar library."""

from datetime import datetime
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.urls import reverse

from events import services
from events.calendars import event_ics
from outbox.models import OutboxMessage
from tests.factories import EventFactory, event_hub

pytestmark = pytest.mark.django_db
CPH = ZoneInfo("Europe/Copenhagen")


def parse(text):
    return icalendar.Calendar.from_ical(text)


def test_event_ics_parses_back_with_copenhagen_times():
    event = EventFactory(
        starts_at=datetime(2031, 3, 5, 9, 0, tzinfo=CPH), ends_at=datetime(2031, 3, 5, 12, 30, tzinfo=CPH)
    )
    component = parse(event_ics(event)).walk("VEVENT")[0]
    assert component.start == datetime(2031, 3, 5, 9, 0, tzinfo=CPH)
    assert component.end == datetime(2031, 3, 5, 12, 30, tzinfo=CPH)
    assert str(component["SUMMARY"]) == event.title
    assert str(component["LOCATION"]) == "Symbion, Fruebjergvej 3, 2100 København Ø"


def test_event_ics_has_the_timezone_definition_and_required_properties():
    calendar = parse(event_ics(EventFactory()))
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Copenhagen"]
    component = calendar.walk("VEVENT")[0]
    assert {"UID", "DTSTAMP", "DTSTART"} <= set(component.keys())
    assert str(calendar["VERSION"]) == "2.0"


def test_the_public_ics_never_carries_the_online_link():
    event = EventFactory(online_url="https://meet.example/secret-room")
    assert "secret-room" not in event_ics(event)


def test_the_confirmed_participants_attachment_carries_the_online_link():
    event = EventFactory(online_url="https://meet.example/secret-room")
    services.registration_create(event=event, full_name="A", email="a@example.com", language="en")
    attachment = OutboxMessage.objects.get().attachments[0]["content"]
    assert "secret-room" in attachment.replace("\r\n ", "")


def test_ics_download_view(client):
    event = EventFactory()
    response = client.get(reverse("events:ics", kwargs={"slug": event.slug}))
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert len(parse(response.content).walk("VEVENT")) == 1


def test_all_events_feed_lists_published_events_only(client):
    EventFactory(slug="shown")
    EventFactory(slug="hidden", status="draft")
    response = client.get(reverse("events:feed"))
    urls = [str(c["URL"]) for c in parse(response.content).walk("VEVENT")]
    assert len(urls) == 1
    assert urls[0].endswith("/events/shown/")


def test_hub_feed_lists_that_hubs_events(client):
    aarhus = event_hub("aarhus")
    EventFactory(hub=aarhus, title_en="In Aarhus", title_da="I Aarhus")
    EventFactory(title_en="In Copenhagen", title_da="I København")
    response = client.get(reverse("events:hub_feed", kwargs={"slug": "aarhus"}))
    assert [str(c["SUMMARY"]) for c in parse(response.content).walk("VEVENT")] == ["I Aarhus"]


def test_hub_feed_of_an_unknown_hub_is_404(client):
    assert client.get(reverse("events:hub_feed", kwargs={"slug": "nowhere"})).status_code == 404


def test_a_cancelled_event_is_marked_cancelled_in_the_feed(client):
    event = EventFactory()
    services.event_cancel(event=event, actor=None)
    component = parse(client.get(reverse("events:feed")).content).walk("VEVENT")[0]
    assert str(component["STATUS"]) == "CANCELLED"
