"""The person's data as a readable page: the download's sections with translated headings and field names."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.personal_data import personal_data_sections

# The download's keys are stable English names; the page shows them as words in the reader's language.
LABELS = {
    "email": _("Email"),
    "full_name": _("Name"),
    "name": _("Name"),
    "preferred_language": _("Preferred language"),
    "language": _("Language"),
    "date_joined": _("Account created"),
    "last_login": _("Last login"),
    "email_addresses": _("Email addresses"),
    "verified": _("Verified"),
    "primary": _("Primary"),
    "second_factors": _("Two-factor authentication"),
    "type": _("Type"),
    "created": _("Created"),
    "last_used": _("Last used"),
    "audit_entries": _("Audit entries about you or by you"),
    "time": _("Time"),
    "action": _("Action"),
    "target": _("Concerning"),
    "by_you": _("Done by you"),
    "administration_changes": _("Your changes in the administration"),
    "object": _("Object"),
    "change": _("Change"),
    "organisation_roles": _("Roles in organisations"),
    "organisation": _("Organisation"),
    "role": _("Role"),
    "since": _("Since"),
    "membership_applications": _("Membership applications"),
    "cvr": _("CVR number"),
    "contact_name": _("Contact person"),
    "contact_email": _("Contact email"),
    "contact_phone": _("Contact phone"),
    "status": _("Status"),
    "submitted": _("Submitted"),
    "invitations_received": _("Invitations received"),
    "hub_staff_of": _("Staff of hubs"),
    "registrations": _("Registrations"),
    "event": _("Event"),
    "event_starts": _("Event starts"),
    "job_title": _("Job title"),
    "invoice_address": _("Invoice address"),
    "invoice_postcode": _("Postcode"),
    "invoice_city": _("City"),
    "invoice_cvr": _("CVR number"),
    "registered": _("Registered"),
    "confirmed": _("Confirmed"),
    "cancelled": _("Cancelled"),
    "attendance": _("Attendance"),
    "privacy_consent": _("Privacy consent given"),
    "newsletter_opt_in": _("Newsletter opt-in"),
    "answers": _("Answers"),
    "question": _("Question"),
    "answer": _("Answer"),
    "profiles": _("Matchmaking profiles"),
    "headline": _("Who we are"),
    "offers": _("What we offer"),
    "seeks": _("What we seek"),
    "languages": _("Meeting languages"),
    "unavailable_slots": _("Slots you cannot take"),
    "meeting_requests": _("Meeting requests"),
    "sent_by_you": _("Sent by you"),
    "other": _("Other participant"),
    "message": _("Message"),
    "sent": _("Sent"),
    "answered": _("Answered"),
    "meetings": _("Meetings"),
    "with": _("With"),
    "slot": _("Time"),
    "table": _("Table"),
    "outcome": _("Outcome"),
    "meeting_feedback": _("Meeting feedback"),
    "happened": _("The meeting happened"),
    "result": _("What came of it"),
    "comment": _("Comment"),
    "given": _("Given"),
    "subscriptions": _("Subscriptions"),
    "topics": _("Topics"),
    "unsubscribed": _("Unsubscribed"),
    "consent_ledger": _("Consent record"),
    "occurred": _("Time"),
    "source": _("Source"),
    "ip_address": _("IP address"),
    "consent_text_version": _("Consent text version"),
    "note": _("Note"),
    "newsletters_sent": _("Newsletters sent to you"),
    "subject": _("Subject"),
    "date": _("Date"),
    "mails": _("Mails"),
    "to": pgettext_lazy("mail recipient", "To"),
}


def _label(key: str) -> str:
    return str(LABELS.get(key, key.replace("_", " ")))


def _display(value):
    """A value as the template shows it: ("text", str), ("list", [items]) or ("fields", [(label, item)])."""
    if isinstance(value, dict):
        return ("fields", [(_label(key), _display(item)) for key, item in value.items()])
    if isinstance(value, list):
        return ("list", [_display(item) for item in value])
    if value is None or value == "":
        return ("text", "–")
    if isinstance(value, bool):
        return ("text", str(_("Yes") if value else _("No")))
    return ("text", str(value))


def personal_data_page_sections(*, data: dict) -> list[dict]:
    """The collected data as headed sections, in the active language."""
    return [
        {"key": source.key, "title": str(source.title), "value": _display(data[source.key])}
        for source in personal_data_sections()
        if source.key in data
    ]
