"""Beat tasks for billing: thin wrappers over the services."""

from celery import shared_task

from billing.dunning import dunning_run
from billing.services import invoice_deliver, invoices_undelivered_deliver


@shared_task(acks_late=True)
def dunning_run_task() -> int:
    """The daily reminder run; returns how many invoices were reminded or flagged."""
    return len(dunning_run().reminded)


@shared_task(acks_late=True)
def invoice_deliver_task(*, invoice_id: int) -> bool:
    from billing.models import Invoice

    invoice = Invoice.objects.filter(pk=invoice_id).exclude(status=Invoice.Status.DRAFT).first()
    return invoice_deliver(invoice=invoice) if invoice is not None else False


@shared_task(acks_late=True)
def invoices_undelivered_task() -> int:
    return invoices_undelivered_deliver()
