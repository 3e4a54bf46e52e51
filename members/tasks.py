"""Beat tasks for memberships: thin wrappers over the services."""

from celery import shared_task

from members.services import (
    membership_invoice_deliver,
    membership_renewal_reminders_send,
    memberships_expire,
    memberships_paid_sync,
    memberships_renew_due,
)


@shared_task(acks_late=True)
def membership_renewal_reminders_task() -> int:
    return membership_renewal_reminders_send()


@shared_task(acks_late=True)
def memberships_expire_task() -> int:
    return memberships_expire()


@shared_task(acks_late=True)
def memberships_renew_task() -> int:
    return memberships_renew_due()


@shared_task(acks_late=True)
def memberships_paid_sync_task() -> int:
    return memberships_paid_sync()


@shared_task(acks_late=True)
def membership_invoice_deliver_task(*, invoice_id: int) -> bool:
    return membership_invoice_deliver(invoice_id=invoice_id)
