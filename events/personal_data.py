"""What the events app keeps about a person (registrations and their answers), for the download and for erasure."""

from django.utils import timezone

from events.models import Registration
from events.selectors import user_registrations
from events.services import registration_anonymise, registration_cancel


def events_collect(user) -> dict:
    registrations = user_registrations(user=user).prefetch_related("answers__question", "answers__options")
    return {
        "registrations": [
            {
                "event": registration.event.title,
                "event_starts": registration.event.starts_at.isoformat(),
                "status": registration.status,
                "full_name": registration.full_name,
                "email": registration.email,
                "organisation": registration.organisation_name,
                "job_title": registration.job_title,
                "invoice_address": registration.invoice_address,
                "invoice_postcode": registration.invoice_postcode,
                "invoice_city": registration.invoice_city,
                "invoice_cvr": registration.invoice_cvr,
                "language": registration.language,
                "registered": registration.created_at.isoformat(),
                "confirmed": registration.confirmed_at.isoformat() if registration.confirmed_at else None,
                "cancelled": registration.cancelled_at.isoformat() if registration.cancelled_at else None,
                "attendance": registration.attendance,
                "privacy_consent": registration.consent_at.isoformat(),
                "newsletter_opt_in": registration.newsletter_opt_in,
                "answers": [
                    {"question": answer.question.label, "answer": answer.display_value()}
                    for answer in registration.answers.all()
                ],
            }
            for registration in registrations
        ]
    }


def events_erase(user) -> None:
    """Upcoming places are cancelled (the waitlist moves up, matchmaking is withdrawn); every registration is then
    anonymised, so past ones still count for the event's statistics."""
    now = timezone.now()
    for registration in user_registrations(user=user).order_by("pk"):
        if registration.status != Registration.Status.CANCELLED and registration.event.ends_at > now:
            registration_cancel(registration=registration, reason="account deleted", now=now)
        registration_anonymise(registration=registration)
