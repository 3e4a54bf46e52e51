"""Celery tasks for the outbox: thin wrappers that take ids and call the delivery functions."""

from celery import shared_task

from outbox import delivery


@shared_task(acks_late=True)
def outbox_deliver_task(ids: list[int]) -> dict:
    return delivery.messages_deliver(ids=ids)


@shared_task(acks_late=True)
def outbox_sweep_task() -> dict:
    return delivery.outbox_sweep()
