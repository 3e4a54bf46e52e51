"""The accounting export: every invoice and credit note issued in a period, one row each, and every payment received
in it, one row each, as CSV or XLSX through `common.exports` (so no buyer's name reaches a spreadsheet as a
formula). Credit notes carry negative amounts, so a column's sum is the period's net figure."""

from collections.abc import Iterator
from datetime import date

from django.http import HttpResponse
from django.utils.translation import gettext as _

from billing.models import Invoice, Payment
from common.exports import export_response


def accounting_header() -> list[str]:
    return [
        _("Record"),
        _("Number"),
        _("Kind"),
        _("Date"),
        _("Due date"),
        _("Buyer"),
        _("CVR number"),
        _("EAN number"),
        _("Net (DKK)"),
        _("VAT (DKK)"),
        _("Gross (DKK)"),
        _("Status"),
        _("Paid (DKK)"),
        _("Payment method"),
        _("Payment reference"),
    ]


def _signed(amount, *, credit: bool):
    return -amount if credit and amount else amount  # never "-0.00"


def accounting_rows(*, start: date, end: date) -> Iterator[list]:
    """Documents issued from `start` to `end` (both included), then payments received in those days."""
    documents = (
        Invoice.objects.exclude(status=Invoice.Status.DRAFT)
        .filter(issue_date__gte=start, issue_date__lte=end)
        .order_by("issue_date", "series", "sequence")
    )
    for document in documents:
        credit = document.is_credit_note
        yield [
            _("Document"),
            document.number,
            document.get_kind_display(),
            document.issue_date,
            document.due_date,
            document.buyer_name,
            document.buyer_cvr,
            document.buyer_ean,
            _signed(document.net_total, credit=credit),
            _signed(document.vat_total, credit=credit),
            _signed(document.gross_total, credit=credit),
            document.get_status_display(),
            _signed(document.paid_total, credit=credit),
            "",
            document.payment_reference,
        ]
    payments = (
        Payment.objects.filter(paid_on__gte=start, paid_on__lte=end).select_related("invoice").order_by("paid_on", "pk")
    )
    for payment in payments:
        invoice = payment.invoice
        yield [
            _("Payment"),
            invoice.number,
            invoice.get_kind_display(),
            payment.paid_on,
            "",
            invoice.buyer_name,
            invoice.buyer_cvr,
            invoice.buyer_ean,
            "",
            "",
            payment.amount,
            "",
            "",
            payment.get_method_display(),
            payment.reference,
        ]


def accounting_export(*, start: date, end: date, fmt: str) -> HttpResponse:
    """The export as a download; `fmt` is "csv" or "xlsx"."""
    # Dates go out as ISO text (common.exports writes what is not a number as text), which every program reads.
    rows = accounting_rows(start=start, end=end)
    return export_response(
        fmt=fmt,
        filename=f"accounting-{start.isoformat()}-{end.isoformat()}.{fmt}",
        header=accounting_header(),
        rows=rows,
    )
