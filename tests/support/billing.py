"""Issued invoices for billing's tests, made through the services."""

from datetime import date
from decimal import Decimal

from billing.models import Invoice, VatCategory
from billing.services import Buyer, Line, invoice_draft_create, invoice_issue


def buyer(**fields) -> Buyer:
    return Buyer(
        **{
            "name": "Fjordbio ApS",
            "email": "faktura@fjordbio.example",
            "language": "da",
            "cvr": "29190925",
            "customer_key": "organisation:1",
            **fields,
        }
    )


def invoice_issued(
    *, net="1000.00", on=date(2027, 1, 15), hub=None, category=Invoice.Category.MEMBERSHIP, **buyer_fields
) -> Invoice:
    """An invoice of `net` + 25 % VAT (1000.00 gives 1250.00), issued on `on` and due 30 days later."""
    draft = invoice_draft_create(
        buyer=buyer(**buyer_fields),
        lines=[Line(description="Membership 2027", unit_price=Decimal(net), vat_category=VatCategory.STANDARD)],
        category=category,
        hub=hub,
    )
    return invoice_issue(invoice=draft, on=on)
