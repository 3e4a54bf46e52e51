"""A person's part of billing: documents addressed to their email (a guest who paid for an event, a billing
contact). The Danish Bookkeeping Act keeps an issued invoice for five years, buyer name and address included,
so deletion cannot remove it; it removes what is not part of the bookkeeping record: the email it was sent to
and the name of the reference person."""

from billing.models import Invoice, Payment


def _documents(user):
    return Invoice.objects.filter(buyer_email__iexact=user.email).exclude(buyer_email="")


def billing_collect(user) -> dict:
    return {
        "documents": [
            {
                "kind": invoice.kind,
                "number": invoice.number,
                "status": invoice.status,
                "issue_date": invoice.issue_date.isoformat() if invoice.issue_date else None,
                "buyer_name": invoice.buyer_name,
                "buyer_email": invoice.buyer_email,
                "buyer_contact_name": invoice.buyer_contact_name,
                "gross_total": str(invoice.gross_total),
            }
            for invoice in _documents(user).order_by("pk")
        ],
        # Payments this person registered as staff (the payment itself stays when the account goes).
        "payments_registered": [
            {"invoice": payment.invoice.number, "amount": str(payment.amount), "paid_on": payment.paid_on.isoformat()}
            for payment in Payment.objects.filter(registered_by=user).select_related("invoice").order_by("pk")
        ],
    }


def billing_erase(user) -> None:
    _documents(user).update(buyer_email="", buyer_contact_name="")
    Payment.objects.filter(registered_by=user).update(registered_by=None)
