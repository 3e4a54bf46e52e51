"""Scheduled retention: what the portal stops keeping about people once it no longer needs it.

Guests' personal data from events (name, email, role, answers, matchmaking texts) is anonymised a set number of
days after the event; the registration rows stay with organisation, size, status and attendance, and meetings
keep their outcomes, so the statistics survive. Events is the highest app layer, so the one run that also
purges unconfirmed newsletter sign-ups and empties old mail bodies lives here."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import CharField, Q, QuerySet, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from accounts.audit import audit_record
from common.locks import locked
from events.models import ANONYMISED_EMAIL_DOMAIN, Answer, MeetingFeedback, MeetingRequest, Profile, Registration
from newsletters import retention as newsletter_retention
from outbox import api as outbox

PREVIEW_ROWS = 200


def guest_registrations_due(*, now) -> QuerySet[Registration]:
    """Registrations without a user account whose event ended more than EVENTS_GUEST_RETENTION_DAYS ago."""
    cutoff = now - timedelta(days=settings.EVENTS_GUEST_RETENTION_DAYS)
    return Registration.objects.filter(user__isnull=True, anonymised_at__isnull=True, event__ends_at__lt=cutoff)


def registrations_anonymise(*, pks: list[int], now) -> int:
    """Name, email and role go; an address that can never be mailed keeps the one-per-email rule satisfied."""
    return Registration.objects.filter(pk__in=pks).update(
        full_name="",
        email=Concat(Value("anonymised-"), Cast("pk", CharField()), Value(ANONYMISED_EMAIL_DOMAIN)),
        job_title="",
        invoice_address="",
        invoice_postcode="",
        invoice_city="",
        invoice_cvr="",
        anonymised_at=now,
    )


def answers_erase(*, registration_pks: list[int]) -> int:
    deleted, _ = Answer.objects.filter(registration__in=registration_pks).delete()
    return deleted


def profiles_anonymise(*, registration_pks: list[int]) -> int:
    return Profile.objects.filter(registration__in=registration_pks).update(
        display_name="", headline="", offers="", seeks=""
    )


def meeting_requests_anonymise(*, registration_pks: list[int]) -> int:
    """The messages they sent and received go; who met whom, and the outcome, stay."""
    involved = Q(sender__registration__in=registration_pks) | Q(recipient__registration__in=registration_pks)
    return MeetingRequest.objects.filter(involved).exclude(message="").update(message="")


def meeting_feedback_anonymise(*, registration_pks: list[int]) -> int:
    return (
        MeetingFeedback.objects.filter(profile__registration__in=registration_pks)
        .exclude(comment="")
        .update(comment="")
    )


def guest_registrations_anonymise(*, now) -> dict:
    with transaction.atomic():
        pks = list(
            locked(guest_registrations_due(now=now), skip_locked=True, of=("self",)).values_list("pk", flat=True)
        )
        counts = {
            "answers": answers_erase(registration_pks=pks),
            "matchmaking_profiles": profiles_anonymise(registration_pks=pks),
            "meeting_messages": meeting_requests_anonymise(registration_pks=pks),
            "meeting_feedback": meeting_feedback_anonymise(registration_pks=pks),
            "guest_registrations": registrations_anonymise(pks=pks, now=now),
        }
    return counts


def retention_settings() -> dict:
    return {
        "guest_days": settings.EVENTS_GUEST_RETENTION_DAYS,
        "unconfirmed_days": settings.NEWSLETTER_UNCONFIRMED_RETENTION_DAYS,
        "mail_days": settings.OUTBOX_RETENTION_DAYS,
    }


def retention_run(*, now=None) -> dict:
    """Everything the retention settings say is due, each part in its own transaction; one audit entry with
    the counts. Returns the counts."""
    now = now or timezone.now()
    counts = {
        **guest_registrations_anonymise(now=now),
        "unconfirmed_subscribers": newsletter_retention.unconfirmed_subscribers_purge(now=now),
        "mail_bodies": outbox.sent_mail_bodies_empty(now=now),
    }
    audit_record(actor=None, action="retention.run", data={**counts, "settings": retention_settings()})
    return counts


def retention_preview(*, now=None) -> dict:
    """What a run now would do, for staff: the counts and the first rows of each kind."""
    now = now or timezone.now()
    registrations = guest_registrations_due(now=now).select_related("event").order_by("event__ends_at", "pk")
    subscribers = newsletter_retention.unconfirmed_subscribers_due(now=now).order_by("created_at", "pk")
    return {
        "now": now,
        "settings": retention_settings(),
        "guest_registration_count": registrations.count(),
        "guest_registrations": list(registrations[:PREVIEW_ROWS]),
        "unconfirmed_subscriber_count": subscribers.count(),
        "unconfirmed_subscribers": list(subscribers[:PREVIEW_ROWS]),
        "mail_body_count": outbox.sent_mail_bodies_due_count(now=now),
    }
