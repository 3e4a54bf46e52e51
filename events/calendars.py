"""iCalendar (RFC 5545) files: one event as an attachment or download, and feeds per hub and for all events."""

import functools
from datetime import UTC, datetime
from urllib.parse import urlencode, urlparse
from zoneinfo import ZoneInfo

import icalendar
from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from events.models import Event

COPENHAGEN = ZoneInfo("Europe/Copenhagen")


def _uid(event: Event) -> str:
    return f"event-{event.pk}@{urlparse(settings.SITE_URL).hostname or 'dlsc.example'}"


def _location(event: Event) -> str:
    return ", ".join(part for part in (event.venue_name, event.venue_address) if part)


def _vevent(event: Event, *, include_online_link: bool, stamp=None) -> icalendar.Event:
    location = _location(event)
    description = event.summary
    if include_online_link and event.online_url:
        description = f"{description}\n\n{event.online_url}".strip()
        location = location or event.online_url
    component = icalendar.Event.new(
        uid=_uid(event),
        summary=event.title,
        start=timezone.localtime(event.starts_at, COPENHAGEN),
        end=timezone.localtime(event.ends_at, COPENHAGEN),
        stamp=stamp or timezone.now(),
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


def _calendar(events, *, name: str, include_online_link: bool, stamp=None) -> icalendar.Calendar:
    calendar = icalendar.Calendar.new(
        prodid="-//Danish Life Science Cluster//DLSC portal//EN", name=name, method="PUBLISH"
    )
    for event in events:
        calendar.add_component(_vevent(event, include_online_link=include_online_link, stamp=stamp))
    return calendar


@functools.cache
def _timezone_ical(tzid: str) -> str:
    """The VTIMEZONE of `tzid` as text, or "" when the timezone database does not know it (left out, as
    add_missing_timezones does). Built and written once per process: writing it out took as long as the rest of a
    mailed calendar entry, and nothing in it changes."""
    try:
        return icalendar.Timezone.from_tzid(tzid).to_ical().decode()
    except ValueError:
        return ""


def _ical(calendar: icalendar.Calendar) -> str:
    """`calendar` as text with the VTIMEZONE of every timezone its events use, where
    `calendar.add_missing_timezones()` puts them: after the calendar's own properties, before the first event."""
    text = calendar.to_ical().decode()
    zones = "".join(_timezone_ical(tzid) for tzid in sorted(calendar.get_missing_tzids()))
    if not zones:
        return text
    first_component = text.find("\r\nBEGIN:") + 2  # the calendar's own BEGIN is at 0, with no line break before it
    return text[:first_component] + zones + text[first_component:]


# One event's calendar is written once for each state of the event, language and online link, with this stand-in
# for the moment it is written (DTSTAMP), which each copy replaces: writing it took a tenth of a sign-up's time.
_STAMP_STAND_IN = datetime(2000, 1, 1, tzinfo=UTC)
_EVENT_FIELDS = [field.attname for field in Event._meta.concrete_fields]
_event_ics_written: dict = {}
_EVENT_ICS_KEPT = 256


def event_ics(event: Event, *, include_online_link: bool = False) -> str:
    """One event; the online link only goes into the copy mailed to a confirmed participant."""
    key = (
        repr([getattr(event, name) for name in _EVENT_FIELDS]),  # some values (JSON) cannot be hashed
        translation.get_language(),
        include_online_link,
        settings.SITE_URL,
    )
    text = _event_ics_written.get(key)
    if text is None:
        calendar = _calendar([event], name=event.title, include_online_link=include_online_link, stamp=_STAMP_STAND_IN)
        text = _ical(calendar)
        if len(_event_ics_written) >= _EVENT_ICS_KEPT:
            _event_ics_written.clear()
        _event_ics_written[key] = text
    stamp = f"DTSTAMP:{timezone.now().astimezone(UTC):%Y%m%dT%H%M%SZ}"
    return text.replace(f"DTSTAMP:{_STAMP_STAND_IN:%Y%m%dT%H%M%SZ}", stamp, 1)


def feed_ics(events, *, name: str) -> str:
    return _ical(_calendar(events, name=name, include_online_link=False))


def ics_attachment(event: Event, *, include_online_link: bool) -> dict:
    return {
        "filename": f"{event.slug}.ics",
        "content": event_ics(event, include_online_link=include_online_link),
        "mimetype": "text/calendar",
    }


def webcal_url(path: str) -> str:
    """A calendar feed as a subscription: calendar apps follow webcal:// and keep the feed up to date."""
    return "webcal://" + settings.SITE_URL.split("://", 1)[-1] + path


def _public_details(event: Event) -> tuple[str, str]:
    """The description and place a calendar link carries: the summary and the page, never the online link."""
    page = settings.SITE_URL + event.get_absolute_url()
    return (f"{event.summary}\n\n{page}" if event.summary else page), _location(event)


def _utc(value, fmt: str) -> str:
    return value.astimezone(UTC).strftime(fmt)


def _google(*, title: str, starts_at, ends_at, details: str, location: str) -> str:
    fmt = "%Y%m%dT%H%M%SZ"
    query = {
        "action": "TEMPLATE",
        "text": title,
        "dates": f"{_utc(starts_at, fmt)}/{_utc(ends_at, fmt)}",
        "details": details,
        "location": location,
    }
    return "https://calendar.google.com/calendar/render?" + urlencode({k: v for k, v in query.items() if v})


def _outlook(*, title: str, starts_at, ends_at, details: str, location: str) -> str:
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    query = {
        "path": "/calendar/action/compose",
        "rru": "addevent",
        "subject": title,
        "startdt": _utc(starts_at, fmt),
        "enddt": _utc(ends_at, fmt),
        "body": details,
        "location": location,
    }
    return "https://outlook.live.com/calendar/0/deeplink/compose?" + urlencode({k: v for k, v in query.items() if v})


def google_calendar_url(event: Event) -> str:
    """Google Calendar's "add event" page, filled in; a plain link, nothing is loaded from Google."""
    details, location = _public_details(event)
    return _google(
        title=event.title, starts_at=event.starts_at, ends_at=event.ends_at, details=details, location=location
    )


def outlook_calendar_url(event: Event) -> str:
    """Outlook on the web's "new event" page, filled in; a plain link like the Google one."""
    details, location = _public_details(event)
    return _outlook(
        title=event.title, starts_at=event.starts_at, ends_at=event.ends_at, details=details, location=location
    )


def _meeting_fields(*, profile, item) -> dict:
    return {
        "title": _("Meeting with %(name)s") % {"name": item.counterpart},
        "starts_at": item.slot.starts_at,
        "ends_at": item.slot.ends_at,
        "details": settings.SITE_URL + profile.event.get_absolute_url(),
        "location": _("%(event)s, table %(table)s") % {"event": profile.event.title, "table": item.table},
    }


def meeting_calendar_links(*, profile, item) -> dict:
    """Google and Outlook links for one matchmaking meeting, with the same text as the agenda .ics."""
    fields = _meeting_fields(profile=profile, item=item)
    return {"google": _google(**fields), "outlook": _outlook(**fields)}


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
    return _ical(calendar)
