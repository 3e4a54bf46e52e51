"""What the newsletters app keeps about a person (their subscription, its whole consent ledger, the issues sent to
them), for the download; on account deletion the subscriber is unsubscribed and anonymised."""

from django.db.models import Q

from newsletters.models import Subscriber
from newsletters.subscriptions import subscriber_erase


def _subscribers(user):
    return Subscriber.objects.filter(Q(user=user) | Q(email__iexact=user.email)).order_by("pk")


def _iso(value):
    return value.isoformat() if value else None


def newsletters_collect(user) -> dict:
    subscribers = _subscribers(user).prefetch_related("topics", "consent_records", "deliveries__campaign")
    return {
        "subscriptions": [
            {
                "email": subscriber.email,
                "name": subscriber.name,
                "language": subscriber.language,
                "status": subscriber.status,
                "topics": [topic.name for topic in subscriber.topics.all()],
                "created": _iso(subscriber.created_at),
                "confirmed": _iso(subscriber.confirmed_at),
                "unsubscribed": _iso(subscriber.unsubscribed_at),
                "bounce_score": subscriber.bounce_score,
                "last_bounce": _iso(subscriber.last_bounce_at),
                "consent_ledger": [
                    {
                        "occurred": _iso(record.occurred_at),
                        "action": record.action,
                        "source": record.source,
                        "ip_address": record.ip_address,
                        "consent_text_version": record.consent_text_version,
                        "topics": record.topics,
                        "language": record.language,
                        "note": record.note,
                    }
                    for record in sorted(subscriber.consent_records.all(), key=lambda r: (r.occurred_at, r.pk))
                ],
                "newsletters_sent": [
                    {"subject": delivery.campaign.subject, "date": _iso(delivery.created_at)}
                    for delivery in sorted(subscriber.deliveries.all(), key=lambda d: (d.created_at, d.pk))
                ],
            }
            for subscriber in subscribers
        ]
    }


def newsletters_erase(user) -> None:
    for subscriber in _subscribers(user):
        subscriber_erase(subscriber=subscriber)
