"""Celery tasks for newsletters: thin wrappers that take ids and call the campaign services."""

from celery import shared_task

from newsletters import campaigns, subscriptions
from outbox import api as outbox


@shared_task(acks_late=True)
def campaign_start_task(campaign_id: int) -> int:
    return campaigns.campaign_start(campaign_id=campaign_id)


@shared_task(acks_late=True)
def campaign_batch_task(campaign_id: int, ids: list[int]) -> dict:
    """Send one batch over one SMTP connection; the campaign must still be sending, so a pause stops a batch
    already under way within campaigns.PAUSE_CHECK_EVERY copies."""
    counts = outbox.messages_deliver_batch(ids=ids, proceed=campaigns.campaign_sending_gate(campaign_id=campaign_id))
    if counts["failed"]:
        subscriptions.deliveries_failed_process(message_ids=ids)
        campaigns.campaign_pause_if_deferred(campaign_id=campaign_id)
    campaigns.campaign_finish_if_done(campaign_id=campaign_id)
    return counts


@shared_task(acks_late=True)
def newsletters_tick_task() -> dict:
    return campaigns.newsletters_tick()
