"""Retention for the newsletter: sign-ups nobody confirmed are not kept."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet

from common.locks import locked
from newsletters.models import ConsentRecord, Subscriber


def unconfirmed_subscribers_due(*, now) -> QuerySet[Subscriber]:
    """Pending addresses that never confirmed and asked nothing since the cutoff. Someone who once confirmed
    keeps their row: its ledger proves their consent and their opt-out."""
    cutoff = now - timedelta(days=settings.NEWSLETTER_UNCONFIRMED_RETENTION_DAYS)
    recent = ConsentRecord.objects.filter(subscriber=OuterRef("pk"), occurred_at__gte=cutoff)
    return Subscriber.objects.filter(
        status=Subscriber.Status.PENDING, confirmed_at__isnull=True, created_at__lt=cutoff
    ).exclude(Exists(recent))


def unconfirmed_subscribers_purge(*, now) -> int:
    """Delete them with their ledger and topics; returns how many subscribers went."""
    with transaction.atomic():
        pks = list(locked(unconfirmed_subscribers_due(now=now), skip_locked=True).values_list("pk", flat=True))
        Subscriber.objects.filter(pk__in=pks).delete()
    return len(pks)
