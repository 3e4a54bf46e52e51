"""iCalendar (RFC 5545) files: one event as an attachment or download, and feeds per hub and for all events."""

from urllib.parse import urlparse
from zoneinfo import ZoneInfo

import icalendar
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from events.models import Event

COPENHAGEN = ZoneInfo("Europe/Copenhagen")


def _uid(event: Event) -> str:
    return f"event-{event.pk}@{urlparse(settings.SITE_URL).hostname or 'dlsc.example'}"


def _vevent(event: Event, *, include_online_link: bool) -> icalendar.Event:
    location = ", ".join(part for part in (event.venue_name, event.venue_address) if part)
    description = event.summary
    if include_online_link and event.online_url:
        description = f"{description}\n\n{event.online_url}".strip()
        location = location or event.online_url
    component = icalendar.Event.new(
        uid=_uid(event),
        summary=event.title,
        start=timezone.localtime(event.starts_at, COPENHAGEN),
        end=timezone.localtime(event.ends_at, COPENHAGEN),
        stamp=timezone.now(),
        last_modified=event.updated_at,
        sequence=event.ics_sequence,
        url=settings.SITE_URL + event.get_absolute_url(),
        status="CANCELLED" if event.status == Event.Status.CANCELLED else "CONFIRMED",
    )
    if location:
        component.add("location", location)
    if description:
        component.add("description", description)
    return component


def _calendar(events, *, name: str, include_online_link: bool) -> icalendar.Calendar:
    calendar = icalendar.Calendar.new(
        prodid="-//Danish Life Science Cluster//DLSC portal//EN", name=name, method="PUBLISH"
    )
    for event in events:
        calendar.add_component(_vevent(event, include_online_link=include_online_link))
    calendar.add_missing_timezones()
    return calendar


def event_ics(event: Event, *, include_online_link: bool = False) -> str:
    """One event; the online link only goes into the copy mailed to a confirmed participant."""
    return _calendar([event], name=event.title, include_online_link=include_online_link).to_ical().decode()


def feed_ics(events, *, name: str) -> str:
    return _calendar(events, name=name, include_online_link=False).to_ical().decode()


def ics_attachment(event: Event, *, include_online_link: bool) -> dict:
    return {
        "filename": f"{event.slug}.ics",
        "content": event_ics(event, include_online_link=include_online_link),
        "mimetype": "text/calendar",
    }


def agenda_ics(*, profile, items) -> str:
    """A matchmaking participant's meetings: each with its time, table and counterpart."""
    host = urlparse(settings.SITE_URL).hostname or "dlsc.example"
    calendar = icalendar.Calendar.new(prodid="-//Danish Life Science Cluster//DLSC portal//EN", method="PUBLISH")
    for item in items:
        calendar.add_component(
            icalendar.Event.new(
                uid=f"meeting-{item.meeting.pk}@{host}",
                summary=_("Meeting with %(name)s") % {"name": item.counterpart},
                start=timezone.localtime(item.slot.starts_at, COPENHAGEN),
                end=timezone.localtime(item.slot.ends_at, COPENHAGEN),
                stamp=timezone.now(),
                location=_("%(event)s, table %(table)s") % {"event": profile.event.title, "table": item.table},
            )
        )
    calendar.add_missing_timezones()
    return calendar.to_ical().decode()
