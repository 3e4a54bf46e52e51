"""Writes on invoices and credit notes. A draft is made from a `Buyer` and `Line`s (plain data, so the code that
bills, members or events, never hands billing its own models); issuing numbers it under the counter's lock and
fixes it; delivering renders the PDF and writes the mail, outside any lock."""

import base64
import logging
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from stdnum import luhn

from accounts.audit import audit_record
from billing.models import VAT_RATES, Invoice, InvoiceLine, VatCategory
from billing.numbering import SERIES, number_format, number_next
from billing.totals import line_net, totals_compute
from billing.validators import validate_cvr, validate_ean
from common.errors import DomainError, InvalidTransition
from common.locks import lock_one
from outbox.api import mail_enqueue, publish_in_background

logger = logging.getLogger(__name__)


class BillingError(DomainError):
    """A rule of billing was broken; the message is translated and shown as it is."""


# Each Buyer attribute and the invoice column that keeps a copy of it.
BUYER_COLUMNS = (
    ("name", "buyer_name"),
    ("email", "buyer_email"),
    ("language", "language"),
    ("address", "buyer_address"),
    ("postcode", "buyer_postcode"),
    ("city", "buyer_city"),
    ("country", "buyer_country"),
    ("cvr", "buyer_cvr"),
    ("vat_number", "buyer_vat_number"),
    ("ean", "buyer_ean"),
    ("contact_name", "buyer_contact_name"),
    ("reference", "buyer_reference"),
    ("order_reference", "order_reference"),
    ("customer_key", "customer_key"),
)


@dataclass(frozen=True)
class Buyer:
    """Who an invoice is addressed to, as the billing code knows them when the draft is made."""

    name: str
    email: str = ""
    language: str = "da"
    address: str = ""
    postcode: str = ""
    city: str = ""
    country: str = "DK"
    cvr: str = ""
    vat_number: str = ""
    ean: str = ""
    contact_name: str = ""
    reference: str = ""
    order_reference: str = ""
    customer_key: str = ""

    @classmethod
    def of(cls, invoice: Invoice) -> "Buyer":
        """The buyer an invoice (or draft) was made out to, from its copy."""
        return cls(**{attribute: getattr(invoice, column) for attribute, column in BUYER_COLUMNS})

    def fields(self) -> dict:
        """The invoice columns that keep a copy of this buyer."""
        columns = {column: getattr(self, attribute) for attribute, column in BUYER_COLUMNS}
        columns["language"] = self.language if self.language in dict(settings.LANGUAGES) else "da"
        columns["buyer_country"] = self.country or "DK"
        return columns


@dataclass(frozen=True)
class Line:
    description: str
    unit_price: Decimal
    quantity: Decimal = Decimal("1")
    vat_category: str = VatCategory.STANDARD
    period_start: date | None = None
    period_end: date | None = None


def _amount(value, *, field: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        raise BillingError(_("%(field)s must be a number.") % {"field": field}) from None
    if not amount.is_finite() or amount < 0:
        raise BillingError(_("%(field)s cannot be negative.") % {"field": field})
    if amount.as_tuple().exponent < -2 or amount >= Decimal("1e10"):
        raise BillingError(_("%(field)s must be an amount in kroner with at most two decimals.") % {"field": field})
    return amount


def _buyer_check(buyer: Buyer) -> None:
    if not buyer.name.strip():
        raise BillingError(_("An invoice needs the buyer's name."))
    try:
        if buyer.ean:
            validate_ean(buyer.ean)
        if buyer.cvr:
            validate_cvr(buyer.cvr)
    except ValidationError as error:
        raise BillingError(error.messages[0]) from None


def _lines_write(invoice: Invoice, lines: list[Line]) -> None:
    if not lines:
        raise BillingError(_("An invoice needs at least one line."))
    rows = []
    for position, line in enumerate(lines, start=1):
        if line.vat_category not in VAT_RATES:
            raise BillingError(_("Unknown VAT category."))
        quantity = _amount(line.quantity, field=_("The quantity"))
        unit_price = _amount(line.unit_price, field=_("The price"))
        rows.append(
            InvoiceLine(
                invoice=invoice,
                position=position,
                description=line.description[:200],
                quantity=quantity,
                unit_price=unit_price,
                vat_category=line.vat_category,
                vat_rate=VAT_RATES[line.vat_category],
                net_amount=line_net(quantity=quantity, unit_price=unit_price),
                period_start=line.period_start,
                period_end=line.period_end,
            )
        )
    invoice.lines.all().delete()
    InvoiceLine.objects.bulk_create(rows)
    totals = totals_compute(rows)
    invoice.net_total, invoice.vat_total, invoice.gross_total = totals.net, totals.vat, totals.gross


def invoice_draft_check(*, buyer: Buyer, lines: list[Line]) -> None:
    """Raise the `BillingError` that a draft with this buyer and these lines would raise, writing nothing: a form
    shows it beside its fields before anything is saved."""
    _buyer_check(buyer)
    if not lines:
        raise BillingError(_("An invoice needs at least one line."))
    for line in lines:
        if line.vat_category not in VAT_RATES:
            raise BillingError(_("Unknown VAT category."))
        _amount(line.quantity, field=_("The quantity"))
        _amount(line.unit_price, field=_("The price"))


def invoice_draft_create(
    *,
    buyer: Buyer,
    lines: list[Line],
    category: str = Invoice.Category.OTHER,
    origin: str = "",
    hub=None,
    by=None,
    kind: str = Invoice.Kind.INVOICE,
    credited_invoice: Invoice | None = None,
    credit_reason: str = "",
) -> Invoice:
    _buyer_check(buyer)
    with transaction.atomic():
        invoice = Invoice.objects.create(
            kind=kind,
            category=category,
            origin=origin,
            hub=hub,
            credited_invoice=credited_invoice,
            credit_reason=credit_reason,
            payment_terms_days=settings.BILLING_PAYMENT_TERMS_DAYS,
            **buyer.fields(),
        )
        _lines_write(invoice, lines)
        invoice.save(update_fields=["net_total", "vat_total", "gross_total"])
        audit_record(actor=by, action="billing.invoice.draft", target=invoice, data={"origin": origin})
    return invoice


def invoice_draft_update(
    *, invoice: Invoice, by, buyer: Buyer | None = None, lines: list[Line] | None = None, terms_days: int | None = None
) -> Invoice:
    """Change a draft; an issued document never changes (a correction is a credit note)."""
    if buyer is not None:
        _buyer_check(buyer)
    with transaction.atomic():
        invoice = lock_one(invoice)
        if not invoice.is_draft:
            raise InvalidTransition(_("An issued invoice cannot be changed: issue a credit note instead."))
        fields = ["net_total", "vat_total", "gross_total"]
        if buyer is not None:
            for name, value in buyer.fields().items():
                setattr(invoice, name, value)
            fields += list(buyer.fields())
        if terms_days is not None:
            invoice.payment_terms_days = terms_days
            fields.append("payment_terms_days")
        if lines is not None:
            _lines_write(invoice, lines)
        invoice.save(update_fields=fields)
        audit_record(actor=by, action="billing.invoice.update", target=invoice)
    return invoice


def payment_reference_for(*, year: int, sequence: int, kind: str) -> str:
    """Digits the payer quotes: kind, year and sequence with a Luhn (modulus 10) check digit, as Danish bank
    references carry one, so a mistyped reference matches nothing rather than the wrong invoice."""
    digits = f"{1 if kind == Invoice.Kind.INVOICE else 2}{year}{sequence:06d}"
    return digits + luhn.calc_check_digit(digits)


def invoice_issue(*, invoice: Invoice, by=None, on: date | None = None) -> Invoice:
    """Number and fix a draft. The counter row is locked only for the insert of the number: no rendering here."""
    on = on or timezone.localdate()
    with transaction.atomic():
        invoice = lock_one(invoice)
        if not invoice.is_draft:
            raise InvalidTransition(_("This document has already been issued."))
        lines = list(invoice.lines.all())
        if not lines:
            raise BillingError(_("An invoice needs at least one line."))
        totals = totals_compute(lines)
        invoice.net_total, invoice.vat_total, invoice.gross_total = totals.net, totals.vat, totals.gross
        series = SERIES[invoice.kind]
        sequence = number_next(series=series, year=on.year)
        invoice.issue(
            series=series,
            year=on.year,
            sequence=sequence,
            number=number_format(series=series, year=on.year, sequence=sequence),
            issue_date=on,
            due_date=on + timedelta(days=invoice.payment_terms_days),
        )
        invoice.payment_reference = payment_reference_for(year=on.year, sequence=sequence, kind=invoice.kind)
        invoice.save()
        if invoice.is_credit_note:
            _credited_update(invoice.credited_invoice_id)
        audit_record(actor=by, action="billing.invoice.issue", target=invoice, data={"number": invoice.number})
    return invoice


def invoice_create_issued(
    *,
    buyer: Buyer,
    lines: list[Line],
    origin: str,
    category: str = Invoice.Category.OTHER,
    hub=None,
    by=None,
    on: date | None = None,
) -> tuple[Invoice, bool]:
    """Make and issue an invoice for `origin` once: a second call (or a concurrent one) returns the first
    invoice and False."""
    if not origin:
        raise ValueError("invoice_create_issued() needs an origin to make it idempotent")
    existing = Invoice.objects.filter(kind=Invoice.Kind.INVOICE, origin=origin).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            invoice = invoice_draft_create(buyer=buyer, lines=lines, category=category, origin=origin, hub=hub, by=by)
            invoice = invoice_issue(invoice=invoice, by=by, on=on)
    except IntegrityError:
        existing = Invoice.objects.filter(kind=Invoice.Kind.INVOICE, origin=origin).first()
        if existing is None:
            raise
        return existing, False
    return invoice, True


def _credited_total(invoice_id: int) -> Decimal:
    return sum(
        Invoice.objects.filter(
            credited_invoice_id=invoice_id,
            kind=Invoice.Kind.CREDIT_NOTE,
            status__in=[Invoice.Status.ISSUED, Invoice.Status.PAID],
        ).values_list("gross_total", flat=True),
        Decimal("0.00"),
    )


def _credited_update(invoice_id: int) -> None:
    """An invoice credited in full is closed: it is no longer owed and no longer dunned. One that a credit note and
    the payments registered before it cover together is paid."""
    invoice = lock_one(Invoice.objects.all(), pk=invoice_id)
    if invoice.status != Invoice.Status.ISSUED:
        return
    credited = _credited_total(invoice_id)
    if credited >= invoice.gross_total:
        invoice.mark_credited()
        invoice.save(update_fields=["status"])
    elif invoice.paid_total and credited + invoice.paid_total >= invoice.gross_total:
        invoice.mark_paid()
        invoice.save(update_fields=["status", "paid_at"])


def credit_note_issue(
    *,
    invoice: Invoice,
    reason: str,
    by=None,
    lines: list[Line] | None = None,
    origin: str = "",
    on: date | None = None,
) -> Invoice:
    """Credit an issued invoice, in full (its lines) or in part (`lines`), never for more than is left of it."""
    if invoice.is_draft or invoice.is_credit_note:
        raise InvalidTransition(_("Only an issued invoice can be credited."))
    if origin:
        existing = Invoice.objects.filter(kind=Invoice.Kind.CREDIT_NOTE, origin=origin).first()
        if existing is not None:
            return existing
    if lines is None:
        lines = [
            Line(
                description=row.description,
                unit_price=row.unit_price,
                quantity=row.quantity,
                vat_category=row.vat_category,
                period_start=row.period_start,
                period_end=row.period_end,
            )
            for row in invoice.lines.all()
        ]
    buyer = Buyer.of(invoice)
    with transaction.atomic():
        invoice = lock_one(invoice)
        if invoice.status == Invoice.Status.CREDITED:
            raise InvalidTransition(_("This invoice has already been credited in full."))
        note = invoice_draft_create(
            buyer=buyer,
            lines=lines,
            category=invoice.category,
            origin=origin,
            hub=invoice.hub,
            by=by,
            kind=Invoice.Kind.CREDIT_NOTE,
            credited_invoice=invoice,
            credit_reason=reason[:200],
        )
        if note.gross_total + _credited_total(invoice.pk) > invoice.gross_total:
            raise BillingError(_("A credit note cannot be larger than what is left of the invoice."))
        note = invoice_issue(invoice=note, by=by, on=on)
    return note


ATTACHMENT_PDF = "application/pdf"


def invoice_pdf_store(*, invoice: Invoice) -> Invoice:
    """Render the PDF of an issued document once and keep it; later calls return the stored file."""
    from billing.pdf import invoice_pdf_render

    if invoice.is_draft:
        raise InvalidTransition(_("A draft has no PDF: issue it first."))
    if invoice.pdf:
        return invoice
    content = invoice_pdf_render(invoice=invoice)
    invoice.pdf.save(f"{invoice.number}.pdf", ContentFile(content), save=False)
    Invoice.objects.filter(pk=invoice.pk, pdf="").update(pdf=invoice.pdf.name)
    return invoice


def invoice_deliver(*, invoice: Invoice) -> bool:
    """Store the PDF and write the mail that carries it to the buyer's billing address, once (a dedupe key).
    False when there is nowhere to send it (no billing email) or it was sent before."""
    invoice = invoice_pdf_store(invoice=invoice)
    if not invoice.buyer_email:
        return False
    with invoice.pdf.open("rb") as handle:
        content = base64.b64encode(handle.read()).decode("ascii")
    template = "billing/email/credit_note" if invoice.is_credit_note else "billing/email/invoice"
    message = mail_enqueue(
        template=template,
        to=invoice.buyer_email,
        language=invoice.language,
        context={"invoice": invoice, "seller": settings.BILLING_SELLER},
        attachments=[
            {"filename": f"{invoice.number}.pdf", "content": content, "mimetype": ATTACHMENT_PDF, "encoding": "base64"}
        ],
        dedupe_key=f"billing:invoice:{invoice.pk}:issued",
    )
    return message is not None


def invoice_deliver_later(*, invoice: Invoice) -> None:
    """From inside the transaction that issued the document (a staff action): a worker renders the PDF and writes
    the mail once it commits; a lost publish is caught by `invoices_undelivered_deliver`."""
    from billing.tasks import invoice_deliver_task

    pk = invoice.pk
    transaction.on_commit(lambda: publish_in_background(lambda: invoice_deliver_task.delay(invoice_id=pk)))


def invoices_undelivered_deliver(*, older_than: timedelta = timedelta(minutes=10)) -> int:
    """Beat: deliver every document issued more than `older_than` ago that still has no PDF (its delivery was
    lost or failed). Returns how many were delivered."""
    cutoff = timezone.now() - older_than
    delivered = 0
    pending = Invoice.objects.filter(pdf="", issued_at__lt=cutoff).exclude(status=Invoice.Status.DRAFT)
    for invoice in pending.order_by("pk"):
        try:
            invoice_deliver(invoice=invoice)
            delivered += 1
        except Exception:  # one document's failure must not stop the others; the next run retries it
            logger.exception("invoice %s: delivery failed, retried by the next run", invoice.pk)
    return delivered
