"""Template helpers for event pages: Markdown bodies made safe, and schema.org data."""

from zoneinfo import ZoneInfo

import markdown
import nh3
from django import template
from django.conf import settings
from django.templatetags.static import static
from django.utils import dateformat, timezone
from django.utils.formats import get_format
from django.utils.html import json_script
from django.utils.safestring import mark_safe

from events import calendars
from events.models import Event

register = template.Library()
COPENHAGEN = ZoneInfo("Europe/Copenhagen")

ALLOWED_TAGS = {"p", "br", "strong", "em", "a", "ul", "ol", "li", "h2", "h3", "h4", "blockquote", "code", "pre", "hr"}


@register.filter
def markdown_safe(text: str) -> str:
    """Staff write Markdown; what reaches the page is sanitised HTML with links that cannot run script."""
    html = markdown.markdown(text or "", extensions=["sane_lists"])
    return mark_safe(nh3.clean(html, tags=ALLOWED_TAGS, link_rel="noopener noreferrer nofollow"))  # noqa: S308


SCHEMA_STATUS = {
    Event.Status.PUBLISHED: "https://schema.org/EventScheduled",
    Event.Status.CANCELLED: "https://schema.org/EventCancelled",
    Event.Status.DRAFT: "https://schema.org/EventScheduled",
}


@register.simple_tag
def event_json_ld(event: Event, seats_left=None):
    """schema.org Event data in a <script type="application/ld+json">: data, never executed, so the CSP allows it."""
    online = event.is_online
    data = {
        "@context": "https://schema.org",
        "@type": "Event",
        "name": event.title,
        "description": event.summary,
        "startDate": timezone.localtime(event.starts_at).isoformat(),
        "endDate": timezone.localtime(event.ends_at).isoformat(),
        "eventStatus": SCHEMA_STATUS[event.status],
        "eventAttendanceMode": "https://schema.org/OnlineEventAttendanceMode"
        if online
        else "https://schema.org/OfflineEventAttendanceMode",
        "url": settings.SITE_URL + event.get_absolute_url(),
        "organizer": {"@type": "Organization", "name": "Danish Life Science Cluster", "url": settings.SITE_URL},
        "location": {"@type": "VirtualLocation", "url": settings.SITE_URL + event.get_absolute_url()}
        if online
        else {
            "@type": "Place",
            "name": event.venue_name or event.hub.name,
            "address": event.venue_address or event.hub.city,
        },
        "offers": {
            "@type": "Offer",
            "price": str(event.price_dkk),
            "priceCurrency": "DKK",
            "url": settings.SITE_URL + event.get_absolute_url(),
            "availability": "https://schema.org/InStock" if seats_left != 0 else "https://schema.org/SoldOut",
        },
    }
    if event.image:
        data["image"] = settings.SITE_URL + event.image.url
    html = json_script(data)
    return mark_safe(html.replace('<script type="application/json">', '<script type="application/ld+json">', 1))  # noqa: S308


@register.filter
def seats_remaining(event: Event):
    """Seats not yet confirmed, from the list annotation; None for an event without a capacity."""
    if event.capacity is None:
        return None
    return max(event.capacity - event.confirmed_count, 0)


def _event_time_formats() -> dict:
    """Built on the language's own date formats (dlsc/formats/), so an event is dated like everything else."""
    date, month_day = get_format("DATE_FORMAT"), get_format("MONTH_DAY_FORMAT")
    return {
        "long": f"l {date}, H:i",
        "short": get_format("DATETIME_FORMAT"),
        "day": date,
        "day_time": f"{month_day}, H:i",
        "time": "H:i",
    }


@register.filter
def event_time(value, style: str = "long") -> str:
    """A time in Copenhagen, written the way the reader's language writes dates."""
    if value is None:
        return ""
    return dateformat.format(timezone.localtime(value, COPENHAGEN), _event_time_formats()[style])


@register.simple_tag
def webcal(path: str) -> str:
    return calendars.webcal_url(path)


@register.inclusion_tag("events/_add_to_calendar.html")
def add_to_calendar(event: Event) -> dict:
    """The .ics download with Google and Outlook links beside it."""
    return {
        "event": event,
        "google": calendars.google_calendar_url(event),
        "outlook": calendars.outlook_calendar_url(event),
    }


@register.simple_tag
def event_image_url(event: Event) -> str:
    """The uploaded image, else the illustration shipped for the event's kind."""
    if event.image:
        return event.image.url
    return static(f"img/events/{event.kind}.svg")


@register.simple_tag
def meeting_calendar_links(profile, item) -> dict:
    return calendars.meeting_calendar_links(profile=profile, item=item)
