"""A participant's agenda as an iCalendar file, for the download and the mail the day before."""

from django.utils.translation import gettext as _
from icalendar import Calendar
from icalendar import Event as CalendarEvent


def agenda_ical(*, profile, items) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//DLSC//matchmaking//")
    calendar.add("version", "2.0")
    for item in items:
        entry = CalendarEvent()
        entry.add("uid", f"meeting-{item.meeting.pk}@dlsc")
        entry.add("summary", _("Meeting with %(name)s") % {"name": item.counterpart})
        entry.add("dtstart", item.slot.starts_at)
        entry.add("dtend", item.slot.ends_at)
        entry.add("location", _("%(event)s, table %(table)s") % {"event": profile.event.title, "table": item.table})
        calendar.add_component(entry)
    return calendar.to_ical()
