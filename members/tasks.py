"""Beat tasks for memberships: thin wrappers over the services."""

from celery import shared_task

from members.services import membership_renewal_reminders_send, memberships_expire


@shared_task(acks_late=True)
def membership_renewal_reminders_task() -> int:
    return membership_renewal_reminders_send()


@shared_task(acks_late=True)
def memberships_expire_task() -> int:
    return memberships_expire()
