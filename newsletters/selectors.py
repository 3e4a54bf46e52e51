"""Reads for the newsletter pages (the public archive), a member's subscription, who a campaign reaches, the
consent ledger's export and proof of an erased address's withdrawal, and the admin's campaign progress."""

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils.crypto import salted_hmac

from newsletters.models import Campaign, ConsentRecord, Subscriber
from outbox import api as outbox


def archive_campaigns() -> QuerySet[Campaign]:
    return Campaign.objects.filter(status=Campaign.Status.SENT).order_by("-finished_at", "-pk")


def archive_campaign(*, pk: int) -> Campaign | None:
    return archive_campaigns().filter(pk=pk).first()


def campaign_audience(*, campaign: Campaign) -> QuerySet[Subscriber]:
    """The confirmed subscribers of any of the campaign's topics, each once: those who get a copy when it starts."""
    return Subscriber.objects.filter(status=Subscriber.Status.CONFIRMED, topics__in=campaign.topics.all()).distinct()


def campaign_recipients(*, campaign: Campaign):
    return campaign_audience(campaign=campaign).order_by("pk").values_list("pk", "email", "language")


def campaign_recipient_count(*, campaign: Campaign) -> int:
    return campaign_audience(campaign=campaign).count()


def campaigns_sending(*, hubs=None) -> QuerySet[Campaign]:
    """Campaigns whose copies are being delivered, for the admin index."""
    campaigns = Campaign.objects.filter(status=Campaign.Status.SENDING)
    if hubs is not None:
        campaigns = campaigns.filter(hub__in=hubs)
    return campaigns


def campaigns_with_progress(campaigns: QuerySet[Campaign]) -> QuerySet[Campaign]:
    """Each campaign with `delivery_total`, `delivery_sent` and `delivery_failed`, from its copies' real outbox
    statuses in the same query (a copy whose row is gone is neither sent nor failed)."""
    return campaigns.annotate(
        delivery_total=Count("deliveries"),
        delivery_sent=Count("deliveries", filter=Q(deliveries__message__status=outbox.Status.SENT)),
        delivery_failed=Count("deliveries", filter=Q(deliveries__message__status=outbox.Status.FAILED)),
    )


def account_subscription(*, user) -> Subscriber | None:
    return Subscriber.objects.filter(email__iexact=user.email).prefetch_related("topics").first()


CONSENT_EXPORT_FIELDS = [
    "email",
    "occurred_at",
    "recorded_at",
    "action",
    "source",
    "ip_address",
    "consent_text_version",
    "topics",
    "language",
    "actor",
    "note",
]


def consent_export_rows(*, subscriber: Subscriber) -> list[list]:
    """The whole ledger of one subscriber, oldest first, one row per CONSENT_EXPORT_FIELDS."""
    return [
        [
            subscriber.email,
            record.occurred_at.isoformat(),
            record.recorded_at.isoformat(),
            record.action,
            record.source,
            record.ip_address or "",
            record.consent_text_version,
            " ".join(record.topics),
            record.language,
            record.actor.email if record.actor else "",
            record.note,
        ]
        for record in subscriber.consent_records.select_related("actor").order_by("occurred_at", "pk")
    ]


def consent_tombstone_hash(*, email: str, secret: str | None = None) -> str:
    """A keyed hash (HMAC-SHA256 under SECRET_KEY, or `secret`) of an address: it proves a withdrawal for that
    address without keeping it, and cannot be reversed or recomputed without the key."""
    return salted_hmac(
        "newsletters.consent-tombstone", email.strip().lower(), secret=secret, algorithm="sha256"
    ).hexdigest()


def consent_withdrawal_proof(*, email: str) -> ConsentRecord | None:
    """The tombstone left when this address's subscriber was erased, if any. Tombstones written under a key since
    rotated away are found through SECRET_KEY_FALLBACKS, as Django finds its own signatures."""
    hashes = [consent_tombstone_hash(email=email)] + [
        consent_tombstone_hash(email=email, secret=old) for old in settings.SECRET_KEY_FALLBACKS
    ]
    return ConsentRecord.objects.filter(email_hash__in=hashes).order_by("-pk").first()
