"""Reads of billing documents for the code that shows them to a customer (the member portal)."""

from datetime import date

from billing.models import Invoice


def customer_documents(*, customer_key: str) -> list[Invoice]:
    """A customer's issued invoices and credit notes, newest first (drafts are nobody's business but staff's)."""
    return list(
        Invoice.objects.filter(customer_key=customer_key)
        .exclude(status=Invoice.Status.DRAFT)
        .select_related("credited_invoice")
        .order_by("-issue_date", "-sequence", "-pk")
    )


def customer_document(*, customer_key: str, number: str) -> Invoice | None:
    """One issued document of the customer's by its number, or None (a foreign or draft number looks missing)."""
    return (
        Invoice.objects.filter(customer_key=customer_key, number=number)
        .exclude(status=Invoice.Status.DRAFT)
        .select_related("credited_invoice")
        .first()
    )


def document_state(*, invoice: Invoice, today: date) -> str:
    """What the customer needs to know: "paid", "overdue", "open", "credited", or "credit_note" for a credit note."""
    if invoice.is_credit_note:
        return "credit_note"
    if invoice.status == Invoice.Status.CREDITED:
        return "credited"
    if invoice.status == Invoice.Status.PAID:
        return "paid"
    return "overdue" if invoice.is_overdue(today=today) else "open"
