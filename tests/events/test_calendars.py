"""Calendar files and feeds, parsed back with the icalendar library."""

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.urls import reverse

from events import services
from events.calendars import event_ics
from outbox.models import OutboxMessage
from tests.factories import EventFactory, event_hub
from tests.support.mail import rendered

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
    attachment = rendered(OutboxMessage.objects.get()).attachments[0]["content"]
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


def test_google_calendar_link_carries_the_event_in_utc():
    from events.calendars import google_calendar_url

    event = EventFactory(
        slug="sundhedsdata",
        title_da="Sundhedsdata & AI",
        summary_da="",
        summary_en="",
        starts_at=datetime(2031, 3, 5, 9, 0, tzinfo=CPH),
        ends_at=datetime(2031, 3, 5, 12, 30, tzinfo=CPH),
    )
    assert google_calendar_url(event) == (
        "https://calendar.google.com/calendar/render?action=TEMPLATE&text=Sundhedsdata+%26+AI"
        "&dates=20310305T080000Z%2F20310305T113000Z"
        "&details=http%3A%2F%2F127.0.0.1%3A8000%2Fda%2Fevents%2Fsundhedsdata%2F"
        "&location=Symbion%2C+Fruebjergvej+3%2C+2100+K%C3%B8benhavn+%C3%98"
    )


def test_outlook_link_carries_the_event_in_utc():
    from events.calendars import outlook_calendar_url

    event = EventFactory(
        slug="sundhedsdata",
        title_da="Sundhedsdata",
        summary_da="",
        summary_en="",
        starts_at=datetime(2031, 3, 5, 9, 0, tzinfo=CPH),
        ends_at=datetime(2031, 3, 5, 12, 30, tzinfo=CPH),
    )
    assert outlook_calendar_url(event) == (
        "https://outlook.live.com/calendar/0/deeplink/compose?path=%2Fcalendar%2Faction%2Fcompose&rru=addevent"
        "&subject=Sundhedsdata&startdt=2031-03-05T08%3A00%3A00Z&enddt=2031-03-05T11%3A30%3A00Z"
        "&body=http%3A%2F%2F127.0.0.1%3A8000%2Fda%2Fevents%2Fsundhedsdata%2F"
        "&location=Symbion%2C+Fruebjergvej+3%2C+2100+K%C3%B8benhavn+%C3%98"
    )


def test_the_event_page_offers_google_and_outlook_beside_the_ics(client):
    event = EventFactory()
    html = client.get(f"/da/events/{event.slug}/").content.decode()
    assert (
        'href="https://calendar.google.com/calendar/render?action=TEMPLATE' in html,
        'href="https://outlook.live.com/calendar/0/deeplink/compose?' in html,
        f'href="/da/events/{event.slug}/calendar.ics"' in html,
    ) == (True, True, True)


def test_the_event_list_offers_a_webcal_subscription():
    from django.test import Client

    html = Client().get("/da/events/").content.decode()
    assert 'href="webcal://127.0.0.1:8000/da/events/calendar.ics"' in html


def calendar_uid_dropped(text: str) -> str:
    assert len(re.findall(r"\r\nUID:[0-9a-f-]{36}\r\n", text)) == 1
    return re.sub(r"\r\nUID:[0-9a-f-]{36}\r\n", "\r\n", text)


@pytest.mark.parametrize("events", [0, 1, 3])
def test_the_timezone_written_once_per_process_gives_what_icalendar_writes_itself(events, monkeypatch):
    from django.utils import timezone

    from events import calendars

    stamp = datetime(2031, 1, 2, 3, 4, 5, tzinfo=CPH)
    monkeypatch.setattr(timezone, "now", lambda: stamp)
    rows = [
        EventFactory(
            starts_at=datetime(2031, 3 + n * 4, 5, 9, 0, tzinfo=CPH),
            ends_at=datetime(2031, 3 + n * 4, 5, 12, 0, tzinfo=CPH),
        )
        for n in range(events)
    ]
    for _ in range(2):  # the second time from the process's copy
        reference = calendars._calendar(rows, name="Feed", include_online_link=False)
        reference.add_missing_timezones()
        # Calendar.new() gives every calendar a random UID of its own.
        assert calendar_uid_dropped(calendars.feed_ics(rows, name="Feed")) == calendar_uid_dropped(
            reference.to_ical().decode()
        )
    assert calendars.feed_ics(rows, name="Feed").count("BEGIN:VTIMEZONE") == (1 if events else 0)


def test_an_events_calendar_is_written_once_per_state_and_stamped_for_each_copy(monkeypatch):
    """The calendar of one event is kept for each state of the event, language and online link; each copy has its
    own DTSTAMP, the moment it was made, and is otherwise what icalendar writes for the event as it is now."""
    from django.utils import timezone, translation

    from events import calendars
    from events.models import Event

    moments = iter([datetime(2031, 1, 2, 3, 4, 5, tzinfo=UTC), datetime(2031, 1, 2, 3, 9, 0, tzinfo=UTC)])
    now = next(moments)
    monkeypatch.setattr(timezone, "now", lambda: now)
    event = EventFactory(title_en="Health day", title_da="Sundhedsdag", online_url="https://meet.example/x")

    def written_now(event, *, include_online_link):
        calendar = calendars._calendar([event], name=event.title, include_online_link=include_online_link)
        calendar.add_missing_timezones()
        return calendar_uid_dropped(calendar.to_ical().decode())

    with translation.override("en"):
        first = event_ics(event, include_online_link=True)
        assert "DTSTAMP:20310102T030405Z" in first
        assert calendar_uid_dropped(first) == written_now(event, include_online_link=True)
        now = next(moments)
        second = event_ics(event, include_online_link=True)
        assert "DTSTAMP:20310102T030900Z" in second
        assert second.replace("T030900Z", "T030405Z") == first
        assert "meet.example" not in event_ics(event, include_online_link=False)
    with translation.override("da"):
        assert "SUMMARY:Sundhedsdag" in event_ics(event, include_online_link=True)
    Event.objects.filter(pk=event.pk).update(title_en="Health night")
    event.refresh_from_db()
    with translation.override("en"):
        changed = event_ics(event, include_online_link=True)
        assert "SUMMARY:Health night" in changed
        assert calendar_uid_dropped(changed) == written_now(event, include_online_link=True)
