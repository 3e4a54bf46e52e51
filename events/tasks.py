"""Periodic event work for Celery beat: thin wrappers over the services."""

from celery import shared_task

from events import billing, retention, services


@shared_task(acks_late=True)
def event_reminders_task() -> int:
    return services.reminders_send_due()


@shared_task(acks_late=True)
def member_holds_release_task() -> int:
    return services.member_holds_release()


@shared_task(acks_late=True)
def retention_run_task() -> dict:
    return retention.retention_run()


@shared_task(acks_late=True)
def registration_billing_task(*, registration_id: int) -> int | None:
    document = billing.registration_billing_settle(registration_id=registration_id)
    return document.pk if document is not None else None


@shared_task(acks_late=True)
def paid_registrations_sweep_task() -> int:
    return billing.paid_registrations_sweep()
