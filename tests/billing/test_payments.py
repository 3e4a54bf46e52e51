"""Payments: registering one under the invoice's lock, and importing a Danish bank statement."""

from datetime import date
from decimal import Decimal

import pytest
from django.utils import translation

from accounts.models import AuditEntry
from billing.models import Invoice, Payment
from billing.payments import StatementError, payment_register, statement_import, statement_parse
from billing.services import BillingError, credit_note_issue, invoice_draft_create
from tests.support.billing import buyer, invoice_issued

pytestmark = pytest.mark.django_db
PAID_ON = date(2027, 2, 1)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def test_a_partial_payment_leaves_the_invoice_issued():
    invoice = invoice_issued()
    payment_register(invoice=invoice, amount="500.00", paid_on=PAID_ON, by=None)
    invoice.refresh_from_db()
    assert (invoice.status, invoice.paid_total, invoice.paid_at) == ("issued", Decimal("500.00"), None)


def test_payments_that_cover_the_invoice_mark_it_paid():
    invoice = invoice_issued()
    payment_register(invoice=invoice, amount="500", paid_on=PAID_ON, by=None)
    payment = payment_register(invoice=invoice, amount=Decimal("750.00"), paid_on=PAID_ON, by=None, reference="rest")
    invoice.refresh_from_db()
    assert (invoice.status, invoice.paid_total) == ("paid", Decimal("1250.00"))
    assert (payment.amount, payment.reference, payment.method) == (Decimal("750.00"), "rest", "bank")
    assert AuditEntry.objects.filter(action="billing.payment.register").count() == 2


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("abc", "The amount must be a number."),
        ("NaN", "The amount must be a number."),
        ("0", "The amount must be more than zero."),
        ("-5", "The amount must be more than zero."),
        ("1.234", "The amount must be in kroner with at most two decimals."),
        ("1250.01", "1,250.01 DKK is more than the 1,250.00 DKK still owed on F2027-00001."),
    ],
)
def test_a_bad_amount_is_refused_and_nothing_is_written(amount, message):
    invoice = invoice_issued()
    with pytest.raises(BillingError) as refused:
        payment_register(invoice=invoice, amount=amount, paid_on=PAID_ON, by=None)
    assert str(refused.value) == message
    assert Payment.objects.count() == 0
    assert Invoice.objects.get().paid_total == Decimal("0.00")


def test_a_draft_a_credit_note_and_a_credited_invoice_cannot_be_paid():
    from billing.services import Line

    draft = invoice_draft_create(buyer=buyer(), lines=[Line(description="x", unit_price=Decimal("10"))])
    invoice = invoice_issued()
    note = credit_note_issue(invoice=invoice, reason="Cancelled", on=date(2027, 1, 20))
    refusals = []
    for target in (draft, note, invoice):
        with pytest.raises(BillingError) as refused:
            payment_register(invoice=target, amount="1", paid_on=PAID_ON, by=None)
        refusals.append(str(refused.value))
    assert refusals == [
        "A draft cannot be paid: issue it first.",
        "A credit note is refunded, not paid.",
        "This invoice has been credited and is not owed.",
    ]


def test_a_partial_credit_note_lowers_what_can_be_paid_and_the_rest_pays_it():
    from billing.services import Line

    invoice = invoice_issued()
    credit_note_issue(
        invoice=invoice, reason="Discount", lines=[Line(description="Discount", unit_price=Decimal("200"))]
    )
    with pytest.raises(BillingError):
        payment_register(invoice=invoice, amount="1000.01", paid_on=PAID_ON, by=None)
    payment_register(invoice=invoice, amount="1000.00", paid_on=PAID_ON, by=None)
    assert Invoice.objects.get(pk=invoice.pk).status == "paid"


def test_a_paid_invoice_refuses_another_payment_in_danish():
    invoice = invoice_issued()
    payment_register(invoice=invoice, amount="1250", paid_on=PAID_ON, by=None)
    with pytest.raises(BillingError) as refused:
        payment_register(invoice=invoice, amount="1", paid_on=PAID_ON, by=None)
    with translation.override("da"):  # the message is translated where it is shown
        assert str(refused.value) == "Denne faktura er allerede betalt."


# --- Bank statements ----------------------------------------------------------------------------------------------


def statement(*lines: str, header=True, encoding="utf-8") -> bytes:
    rows = (["Dato;Tekst;Beløb;Saldo"] if header else []) + list(lines)
    return ("\r\n".join(rows) + "\r\n").encode(encoding)


def test_the_statement_parser_reads_danish_dates_and_amounts():
    content = statement(
        '05-02-2027;"FI-indbetaling 12027000001 7";1.250,00;10.250,00',
        "06.02.2027;Gebyr;-12,50;10.237,50",
        header=True,
    )
    lines = statement_parse(content)
    assert [(line.row, line.booked_on, line.text, line.amount) for line in lines] == [
        (2, date(2027, 2, 5), "FI-indbetaling 12027000001 7", Decimal("1250.00")),
        (3, date(2027, 2, 6), "Gebyr", Decimal("-12.50")),
    ]


def test_a_windows_1252_statement_without_header_is_read():
    lines = statement_parse(statement("05-02-2027;Indbetaling Ærø Kommune;99,5;0", header=False, encoding="cp1252"))
    assert [(line.text, line.amount) for line in lines] == [("Indbetaling Ærø Kommune", Decimal("99.50"))]


def test_a_statement_matches_by_reference_and_by_number_and_a_second_import_registers_nothing():
    first = invoice_issued()
    second = invoice_issued(name="Region Midtjylland")
    assert (first.payment_reference, second.number) == ("120270000017", "F2027-00002")
    content = statement(
        "05-02-2027;FI-indbetaling 1202 7000 0017;1.250,00;11.250,00",
        "06-02-2027;Overførsel faktura F2027-00002 Region M;500,00;11.750,00",
        "07-02-2027;Husleje;-8.000,00;3.750,00",
    )
    result = statement_import(content=content, by=None)
    assert [(line.row, payment.invoice.number, payment.amount) for line, payment in result.registered] == [
        (2, "F2027-00001", Decimal("1250.00")),
        (3, "F2027-00002", Decimal("500.00")),
    ]
    assert (result.unmatched, result.outgoing) == ([], 1)
    assert [Invoice.objects.get(pk=pk).status for pk in (first.pk, second.pk)] == ["paid", "issued"]
    again = statement_import(content=content, by=None)
    assert (again.registered, [line.row for line in again.already_imported]) == ([], [2, 3])
    assert Payment.objects.count() == 2
    assert Invoice.objects.get(pk=second.pk).paid_total == Decimal("500.00")


def test_lines_that_do_not_match_are_listed_with_the_reason():
    paid = invoice_issued()
    payment_register(invoice=paid, amount="1250", paid_on=PAID_ON, by=None)
    open_invoice = invoice_issued()
    content = statement(
        "05-02-2027;Indbetaling uden tekst;100,00;1",
        f"05-02-2027;Ref {open_invoice.payment_reference};1.250,01;2",
        f"05-02-2027;Ref {paid.payment_reference};1.250,00;3",
        "05-02-2027;Ref 999999999999;10,00;4",
    )
    result = statement_import(content=content, by=None)
    assert [(line.row, str(why)) for line, why in result.unmatched] == [
        (2, "no payment reference or invoice number in the text"),
        (3, "amount too large: 1,250.00 DKK is owed on F2027-00002"),
        (4, "invoice F2027-00001 is already paid"),
        (5, "unknown reference"),
    ]
    assert result.registered == []
    assert Payment.objects.count() == 1


def test_two_lines_of_one_file_paying_the_same_invoice_register_only_what_is_owed():
    invoice = invoice_issued()
    line = f"05-02-2027;Ref {invoice.payment_reference};1.250,00;1"
    result = statement_import(content=statement(line, line), by=None)
    assert [row.row for row, _payment in result.registered] == [2]
    assert [(row.row, str(why)) for row, why in result.unmatched] == [(3, "invoice F2027-00001 is already paid")]


GOOD = "05-02-2027;Ref 120270000017;1.250,00;1\n"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "The file is empty."),
        (
            "Date,Text,Amount\n2027-02-05,Ref 120270000017,1250.00\n",
            "Line 1 does not have the columns Dato;Tekst;Beløb;Saldo separated by semicolons.",
        ),
        (
            f"Dato;Tekst;Beløb\n{GOOD}2027-02-05;Ref;100,00\n",
            "Line 3: “2027-02-05” is not a date as dd-mm-yyyy or dd.mm.yyyy.",
        ),
        (f"{GOOD}05-02-2027;Ref;1O0,00\n", "Line 2: “1O0,00” is not an amount such as 1.234,50."),
        (f"{GOOD}05-02-2027;Ref;1250.00\n", "Line 2: “1250.00” is not an amount such as 1.234,50."),
        ("%PDF-1.7\n\x00\x01\x02", "This is not a text file; export the statement from your net bank as CSV."),
    ],
)
def test_a_file_in_another_format_registers_nothing(content, message):
    invoice_issued()
    with pytest.raises(StatementError) as refused:
        statement_import(content=content.encode(), by=None)
    assert str(refused.value) == message
    assert Payment.objects.count() == 0


def test_a_credit_note_for_the_rest_of_a_part_paid_invoice_marks_it_paid():
    from billing.services import Line

    invoice = invoice_issued()
    payment_register(invoice=invoice, amount="1000.00", paid_on=PAID_ON, by=None)
    credit_note_issue(invoice=invoice, reason="Discount", lines=[Line(description="x", unit_price=Decimal("200"))])
    invoice.refresh_from_db()
    assert (invoice.status, invoice.paid_total) == ("paid", Decimal("1000.00"))
