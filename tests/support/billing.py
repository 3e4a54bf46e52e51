"""Issued invoices and credit notes for tests, made through billing's services with fixed dates and buyers."""

from datetime import date
from decimal import Decimal

from billing.models import Invoice, VatCategory
from billing.services import Buyer, Line, credit_note_issue, invoice_create_issued, invoice_draft_create, invoice_issue

ON = date(2027, 1, 15)

# A public buyer on NemHandel: an EAN routes the document, a person's reference routes it inside the region.
REGION = Buyer(
    name="Region Midtjylland",
    email="faktura@rm.example",
    language="da",
    address="Skottenborg 26",
    postcode="8800",
    city="Viborg",
    cvr="29190925",
    ean="5798000000001",
    contact_name="Mette Holm",
    reference="4410-Mette Holm",
    order_reference="PO-2027-118",
    customer_key="organisation:1",
)

# A company without an EAN (so its documents are sent by mail, not NemHandel).
COMPANY = Buyer(
    name="Nordlys Medico ApS",
    email="bogholderi@nordlys.example",
    language="en",
    address="Finsensvej 12",
    postcode="2000",
    city="Frederiksberg",
    cvr="25313763",
    customer_key="organisation:2",
)


def membership_lines(fee: str = "8000.00") -> list[Line]:
    return [
        Line(
            description="Membership 2027, 10-49 employees",
            unit_price=Decimal(fee),
            period_start=date(2027, 1, 1),
            period_end=date(2027, 12, 31),
        )
    ]


def issued(*, buyer: Buyer = REGION, lines: list[Line] | None = None, origin: str, category: str = "other", on=ON):
    invoice, _ = invoice_create_issued(
        buyer=buyer, lines=lines or membership_lines(), origin=origin, category=category, on=on
    )
    return invoice


def exempt_lines() -> list[Line]:
    return [Line(description="Course material, exempt", unit_price=Decimal("1200.00"), vat_category=VatCategory.EXEMPT)]


def event_lines() -> list[Line]:
    return [
        Line(
            description="Registration: Meet & Match Medtech 2027, 14 April 2027 (Anne Jensen)",
            unit_price=Decimal("1450.00"),
            period_start=date(2027, 4, 14),
            period_end=date(2027, 4, 14),
        )
    ]


def several_lines() -> list[Line]:
    return [
        Line(description="Membership 2027", unit_price=Decimal("8000.00")),
        Line(description="Partner stand, Meet & Match", unit_price=Decimal("333.33"), quantity=Decimal("3")),
        Line(description="Course material", unit_price=Decimal("0.10"), quantity=Decimal("3")),
        Line(description="Exempt course", unit_price=Decimal("500.00"), vat_category=VatCategory.EXEMPT),
    ]


def credited(invoice, *, reason: str = "Wrong size band", on=ON):
    return credit_note_issue(invoice=invoice, reason=reason, on=on)


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
