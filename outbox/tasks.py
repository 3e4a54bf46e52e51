"""Celery tasks for the outbox: thin wrappers that take ids and call the services."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from outbox import services
from outbox.models import OutboxMessage


@shared_task(acks_late=True)
def outbox_deliver_task(ids: list[int]) -> dict:
    return services.messages_deliver(ids=ids)


@shared_task(acks_late=True)
def outbox_sweep_task() -> dict:
    return services.outbox_sweep()


@shared_task(acks_late=True)
def outbox_purge_task() -> int:
    """Sent mail is kept for a year for staff to read, then removed."""
    cutoff = timezone.now() - timedelta(days=settings.OUTBOX_RETENTION_DAYS)
    deleted, _ = OutboxMessage.objects.filter(status=OutboxMessage.Status.SENT, sent_at__lt=cutoff).delete()
    return deleted
