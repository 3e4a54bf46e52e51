"""Beat tasks for billing: thin wrappers over the services."""

from celery import shared_task

from billing.dunning import dunning_run


@shared_task(acks_late=True)
def dunning_run_task() -> int:
    """The daily reminder run; returns how many invoices were reminded or flagged."""
    return len(dunning_run().reminded)
