"""Celery tasks for the outbox: thin wrappers that take ids and call the services."""

from celery import shared_task

from outbox import services


@shared_task(acks_late=True)
def outbox_deliver_task(ids: list[int]) -> dict:
    return services.messages_deliver(ids=ids)


@shared_task(acks_late=True)
def outbox_sweep_task() -> dict:
    return services.outbox_sweep()
