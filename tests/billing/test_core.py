"""Billing's core: totals by VAT category, gapless numbers under concurrency, issue once, credit notes, the PDF
and the mail that carries it."""

import base64
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import translation

from billing.models import Invoice, InvoiceLine, NumberCounter, VatCategory
from billing.services import (
    BillingError,
    Buyer,
    Line,
    credit_note_issue,
    invoice_create_issued,
    invoice_deliver,
    invoice_draft_create,
    invoice_draft_update,
    invoice_issue,
    payment_reference_for,
)
from billing.totals import totals_compute
from billing.validators import validate_cvr, validate_ean
from common.errors import InvalidTransition
from outbox.models import OutboxMessage
from outbox.smtp import message_build
from tests.support.services import require_postgres

BUYER = Buyer(
    name="Region Midtjylland",
    email="faktura@rm.example",
    language="en",
    address="Skottenborg 26",
    postcode="8800",
    city="Viborg",
    cvr="29190925",
    ean="5798000000001",
    customer_key="organisation:1",
)
ON = date(2027, 1, 15)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def lines(*prices, category=VatCategory.STANDARD):
    return [Line(description=f"Line {n}", unit_price=Decimal(p), vat_category=category) for n, p in enumerate(prices)]


def test_vat_is_rounded_once_per_category_not_per_line():
    # Three lines of 0.10 at 25 %: per line the VAT would round to 0.03 each (0.09); per category it is 0.08.
    rows = [Line(description="x", unit_price=Decimal("0.10"), quantity=Decimal("1"))] * 3 + [
        Line(description="y", unit_price=Decimal("1000"), vat_category=VatCategory.EXEMPT)
    ]
    totals = totals_compute(rows)
    assert (totals.net, totals.vat, totals.gross) == (Decimal("1000.30"), Decimal("0.08"), Decimal("1000.38"))
    assert [(row.category, row.taxable, row.vat) for row in totals.breakdown] == [
        ("E", Decimal("1000.00"), Decimal("0.00")),
        ("S", Decimal("0.30"), Decimal("0.08")),
    ]


def test_line_amounts_round_half_up_to_the_ore():
    totals = totals_compute([Line(description="x", unit_price=Decimal("333.335"), quantity=Decimal("1"))])
    assert totals.net == Decimal("333.34")


@pytest.mark.django_db
def test_issue_numbers_dates_and_reference():
    draft = invoice_draft_create(buyer=BUYER, lines=lines("8000", "125.50"), category=Invoice.Category.MEMBERSHIP)
    assert (draft.status, draft.number, draft.gross_total) == ("draft", None, Decimal("10156.88"))
    first = invoice_issue(invoice=draft, on=ON)
    second = invoice_issue(invoice=invoice_draft_create(buyer=BUYER, lines=lines("100")), on=ON)
    assert (first.number, second.number) == ("F2027-00001", "F2027-00002")
    assert (first.issue_date, first.due_date) == (ON, date(2027, 2, 14))
    assert first.payment_reference == payment_reference_for(year=2027, sequence=1, kind="invoice") == "120270000017"
    assert (first.net_total, first.vat_total, first.gross_total) == (
        Decimal("8125.50"),
        Decimal("2031.38"),
        Decimal("10156.88"),
    )
    assert NumberCounter.objects.get(series="F", year=2027).last_number == 2


@pytest.mark.django_db
def test_an_issued_invoice_never_changes():
    invoice = invoice_issue(invoice=invoice_draft_create(buyer=BUYER, lines=lines("100")), on=ON)
    with pytest.raises(InvalidTransition):
        invoice_issue(invoice=invoice, on=ON)
    with pytest.raises(InvalidTransition) as error:
        invoice_draft_update(invoice=invoice, by=None, lines=lines("1"))
    assert str(error.value) == "An issued invoice cannot be changed: issue a credit note instead."
    invoice.refresh_from_db()
    assert (invoice.number, invoice.gross_total, invoice.lines.get().unit_price) == (
        "F2027-00001",
        Decimal("125.00"),
        Decimal("100.00"),
    )
    assert NumberCounter.objects.get(series="F", year=2027).last_number == 1


@pytest.mark.django_db
def test_drafts_can_be_edited():
    draft = invoice_draft_create(buyer=BUYER, lines=lines("100"))
    invoice_draft_update(invoice=draft, by=None, lines=lines("200", "300", category=VatCategory.EXEMPT))
    draft.refresh_from_db()
    assert (draft.gross_total, draft.vat_total, draft.lines.count()) == (Decimal("500.00"), Decimal("0.00"), 2)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("price", "message"),
    [
        ("-1", "The price cannot be negative."),
        ("abc", "The price must be a number."),
        ("1.001", "The price must be an amount in kroner with at most two decimals."),
        ("NaN", "The price cannot be negative."),
    ],
)
def test_bad_amounts_are_refused_and_nothing_is_saved(price, message):
    with pytest.raises(BillingError) as error:
        invoice_draft_create(buyer=BUYER, lines=[Line(description="x", unit_price=price)])
    assert str(error.value) == message
    assert (Invoice.objects.count(), InvoiceLine.objects.count()) == (0, 0)


@pytest.mark.django_db
def test_an_invalid_ean_is_refused():
    with pytest.raises(BillingError) as error:
        invoice_draft_create(buyer=Buyer(name="X", ean="5798000000002"), lines=lines("1"))
    assert str(error.value) == "Enter a valid EAN number: 13 digits with a correct check digit."
    assert Invoice.objects.count() == 0


@pytest.mark.parametrize("value", ["5798000000001", "5790000000029"])
def test_valid_eans(value):
    validate_ean(value)


@pytest.mark.parametrize("value", ["5798000000002", "579800000000", "57980000000011", "579800000000a", ""])
def test_invalid_eans(value):
    with pytest.raises(ValidationError):
        validate_ean(value)


def test_cvr_modulus_11():
    validate_cvr("41929006")
    with pytest.raises(ValidationError):
        validate_cvr("41929007")


@pytest.mark.django_db
def test_a_rolled_back_issue_gives_its_number_back():
    draft = invoice_draft_create(buyer=BUYER, lines=lines("100"))
    with pytest.raises(RuntimeError), transaction.atomic():
        invoice_issue(invoice=draft, on=ON)
        raise RuntimeError("the caller failed after issuing")
    draft.refresh_from_db()
    assert (draft.status, draft.number) == ("draft", None)
    assert invoice_issue(invoice=draft, on=ON).number == "F2027-00001"


@pytest.mark.django_db
def test_create_issued_is_idempotent_on_origin():
    first, created = invoice_create_issued(buyer=BUYER, lines=lines("100"), origin="membership:1:2027", on=ON)
    again, created_again = invoice_create_issued(buyer=BUYER, lines=lines("999"), origin="membership:1:2027", on=ON)
    assert (created, created_again, again.pk, Invoice.objects.count()) == (True, False, first.pk, 1)


@pytest.mark.django_db
def test_credit_notes_full_and_partial():
    invoice, _ = invoice_create_issued(buyer=BUYER, lines=lines("1000", "200"), origin="x:1", on=ON)
    part = credit_note_issue(invoice=invoice, reason="Discount", lines=lines("200"), on=ON)
    assert (part.number, part.kind, part.gross_total, part.credited_invoice_id) == (
        "K2027-00001",
        "credit_note",
        Decimal("250.00"),
        invoice.pk,
    )
    invoice.refresh_from_db()
    assert invoice.status == "issued"
    with pytest.raises(BillingError) as error:
        credit_note_issue(invoice=invoice, reason="Too much", lines=lines("1000.01"), on=ON)
    assert str(error.value) == "A credit note cannot be larger than what is left of the invoice."
    assert (Invoice.objects.filter(kind="credit_note").count(), NumberCounter.objects.get(series="K").last_number) == (
        1,
        1,
    )
    rest = credit_note_issue(invoice=invoice, reason="Cancelled", lines=lines("1000"), on=ON)
    invoice.refresh_from_db()
    assert (rest.number, invoice.status) == ("K2027-00002", "credited")
    with pytest.raises(InvalidTransition):
        credit_note_issue(invoice=invoice, reason="Again", on=ON)


@pytest.mark.django_db
def test_deliver_stores_the_pdf_and_mails_it_once(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    invoice, _ = invoice_create_issued(buyer=BUYER, lines=lines("8000"), origin="x:2", on=ON)
    assert invoice_deliver(invoice=invoice) is True
    assert invoice_deliver(invoice=invoice) is False
    invoice.refresh_from_db()
    stored = invoice.pdf.read()
    assert stored.startswith(b"%PDF-") and invoice.pdf.name == "invoices/2027/F2027-00001.pdf"
    message = OutboxMessage.objects.get(dedupe_key=f"billing:invoice:{invoice.pk}:issued")
    assert (message.to, message.language, message.subject) == (
        "faktura@rm.example",
        "en",
        "Invoice F2027-00001 from the Danish Life Science Cluster",
    )
    assert "Attached is invoice F2027-00001 of 10,000.00 DKK, due on 14/02/2027." in message.body_text
    [attachment] = message_build(message).attachments
    assert attachment[0] == "F2027-00001.pdf" and attachment[2] == "application/pdf"
    assert attachment[1] == stored == base64.b64decode(message.attachments[0]["content"])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_issuers_at_once_never_skip_or_repeat_a_number():
    require_postgres()
    drafts = [invoice_draft_create(buyer=BUYER, lines=lines("100")) for _ in range(40)]
    barrier = threading.Barrier(8)

    def issue(chunk):
        barrier.wait()
        try:
            return [invoice_issue(invoice=draft, on=ON).sequence for draft in chunk]
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        sequences = [n for result in pool.map(issue, [drafts[i::8] for i in range(8)]) for n in result]
    assert sorted(sequences) == list(range(1, 41))
    assert NumberCounter.objects.get(series="F", year=2027).last_number == 40
