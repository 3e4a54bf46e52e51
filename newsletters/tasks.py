"""Celery tasks for newsletters: thin wrappers that take ids and call the services."""

from celery import shared_task

from newsletters import services
from outbox.services import messages_deliver_batch


@shared_task(acks_late=True)
def campaign_start_task(campaign_id: int) -> int:
    return services.campaign_start(campaign_id=campaign_id)


@shared_task(acks_late=True)
def campaign_batch_task(campaign_id: int, ids: list[int]) -> dict:
    """Send one batch over one SMTP connection; the campaign must still be sending, so a pause stops a batch
    already under way within services.PAUSE_CHECK_EVERY copies."""
    counts = messages_deliver_batch(ids=ids, proceed=services.campaign_sending_gate(campaign_id=campaign_id))
    if counts["failed"]:
        services.deliveries_failed_process(message_ids=ids)
        services.campaign_pause_if_deferred(campaign_id=campaign_id)
    services.campaign_finish_if_done(campaign_id=campaign_id)
    return counts


@shared_task(acks_late=True)
def newsletters_tick_task() -> dict:
    return services.newsletters_tick()
