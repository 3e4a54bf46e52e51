"""Payments on invoices: registering one (under the invoice's row lock, never more than is owed) and importing a
Danish bank statement, whose incoming lines are matched to invoices by payment reference or invoice number.

The statement format (said on the import page too): a CSV file as Danish net banks export it, columns
Dato;Tekst;Beløb;Saldo separated by semicolons (the balance and any further columns are optional and ignored),
dates as dd-mm-yyyy or dd.mm.yyyy, amounts with a decimal comma and an optional thousands dot (1.234,50),
UTF-8 (with or without BOM) or Windows-1252, with or without a header row."""

import csv
import hashlib
import io
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Q
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

from accounts.audit import audit_record
from billing.models import Invoice, Payment
from billing.selectors import invoice_owed
from billing.services import BillingError
from common.locks import lock_one

MAX_AMOUNT = Decimal("1e10")


def money(amount: Decimal) -> str:
    """An amount as the active language writes it: 1.250,00 in Danish, 1,250.00 in English."""
    return number_format(amount, decimal_pos=2, force_grouping=True)


def _payment_amount(value) -> Decimal:
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError, TypeError):
        raise BillingError(_("The amount must be a number.")) from None
    if not amount.is_finite():
        raise BillingError(_("The amount must be a number."))
    if amount <= 0:
        raise BillingError(_("The amount must be more than zero."))
    if amount.as_tuple().exponent < -2 or amount >= MAX_AMOUNT:
        raise BillingError(_("The amount must be in kroner with at most two decimals."))
    return amount.quantize(Decimal("0.01"))


def payment_register(
    *,
    invoice: Invoice,
    amount,
    paid_on: date,
    by,
    method: str = Payment.Method.BANK,
    reference: str = "",
    bank_line_key: str | None = None,
) -> Payment:
    """Register a payment on an issued invoice. Refused (a translated `BillingError`) for an amount that is not a
    positive number of kroner, for more than is still owed, and for a draft, a credit note, or an invoice already
    paid or credited. The invoice is marked paid once payments (and credit notes) cover it."""
    amount = _payment_amount(amount)
    if method not in Payment.Method.values:
        raise BillingError(_("Unknown payment method."))
    if not isinstance(paid_on, date):
        raise BillingError(_("The payment needs the date it was paid."))
    with transaction.atomic():
        invoice = lock_one(invoice)
        if invoice.is_credit_note:
            raise BillingError(_("A credit note is refunded, not paid."))
        if invoice.is_draft:
            raise BillingError(_("A draft cannot be paid: issue it first."))
        if invoice.status == Invoice.Status.CREDITED:
            raise BillingError(_("This invoice has been credited and is not owed."))
        if invoice.status == Invoice.Status.PAID:
            raise BillingError(_("This invoice has already been paid."))
        if bank_line_key and Payment.objects.filter(bank_line_key=bank_line_key).exists():
            raise BillingError(_("This bank statement line has already been registered."))
        owed = invoice_owed(invoice=invoice)
        if amount > owed:
            raise BillingError(
                _("%(amount)s DKK is more than the %(owed)s DKK still owed on %(number)s.")
                % {"amount": money(amount), "owed": money(owed), "number": invoice.number}
            )
        payment = Payment.objects.create(
            invoice=invoice,
            amount=amount,
            paid_on=paid_on,
            method=method,
            reference=reference[:120],
            bank_line_key=bank_line_key or None,
            registered_by=by if getattr(by, "is_authenticated", False) else None,
        )
        invoice.paid_total += amount
        fields = ["paid_total"]
        if amount == owed:
            invoice.mark_paid()
            fields += ["status", "paid_at"]
        invoice.save(update_fields=fields)
        audit_record(
            actor=by,
            action="billing.payment.register",
            target=invoice,
            data={"amount": str(amount), "paid_on": paid_on.isoformat(), "method": method},
        )
    return payment


# --- Bank statements -------------------------------------------------------------------------------------------


class StatementError(BillingError):
    """The uploaded file is not a bank statement in the documented format; nothing was registered."""


@dataclass(frozen=True)
class StatementLine:
    row: int  # the line's number in the file, as a person counts them
    booked_on: date
    text: str
    amount: Decimal
    key: str  # a fingerprint of the line: the same file imported again gives the same keys


DATE_FORMATS = ("%d-%m-%Y", "%d.%m.%Y")
AMOUNT_RE = re.compile(r"^-?\d{1,3}(\.\d{3})*(,\d{1,2})?$|^-?\d+(,\d{1,2})?$")
HEADER_DATE_WORDS = ("dato", "date", "bogført", "bogføringsdato", "rentedato")


def _decode(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return content.decode("cp1252", errors="replace")


def _date(text: str) -> date | None:
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(text.strip(), pattern).date()
        except ValueError:
            continue
    return None


def _statement_amount(text: str) -> Decimal | None:
    text = text.strip().replace(" ", "").replace("\xa0", "")
    if not AMOUNT_RE.match(text):
        return None
    return Decimal(text.replace(".", "").replace(",", "."))


def statement_parse(content: bytes) -> list[StatementLine]:
    """The lines of a statement in the documented format, or `StatementError` naming the first line that is not."""
    text = _decode(content)
    if "\x00" in text:
        raise StatementError(_("This is not a text file; export the statement from your net bank as CSV."))
    try:
        rows = [row for row in csv.reader(io.StringIO(text), delimiter=";") if any(cell.strip() for cell in row)]
    except csv.Error:
        raise StatementError(_("This is not a text file; export the statement from your net bank as CSV.")) from None
    if not rows:
        raise StatementError(_("The file is empty."))
    header_rows = 1 if rows[0] and rows[0][0].strip().lower() in HEADER_DATE_WORDS else 0
    seen: Counter = Counter()
    lines = []
    for number, row in enumerate(rows[header_rows:], start=header_rows + 1):
        if len(row) < 3:
            raise StatementError(
                _("Line %(line)s does not have the columns Dato;Tekst;Beløb;Saldo separated by semicolons.")
                % {"line": number}
            )
        booked_on = _date(row[0])
        if booked_on is None:
            raise StatementError(
                _("Line %(line)s: “%(value)s” is not a date as dd-mm-yyyy or dd.mm.yyyy.")
                % {"line": number, "value": row[0].strip()[:30]}
            )
        amount = _statement_amount(row[2])
        if amount is None:
            raise StatementError(
                _("Line %(line)s: “%(value)s” is not an amount such as 1.234,50.")
                % {"line": number, "value": row[2].strip()[:30]}
            )
        normalised = ";".join(cell.strip() for cell in row[:4])
        seen[normalised] += 1
        # Two identical lines in one file (two equal payments on one day) are two payments; the count keeps their
        # keys apart, and the same file imported again gives the same keys.
        key = hashlib.sha256(f"{normalised}#{seen[normalised]}".encode()).hexdigest()
        lines.append(StatementLine(row=number, booked_on=booked_on, text=row[1].strip(), amount=amount, key=key))
    return lines


INVOICE_NUMBER_RE = re.compile(r"\b([FK])\s?(\d{4})-(\d{1,6})\b", re.IGNORECASE)
DIGITS_RE = re.compile(r"\d{6,}")


def _references(text: str) -> tuple[list[str], list[str]]:
    """Payment references (digit runs, spaces inside ignored) and invoice numbers found in a line's text."""
    numbers = [f"{s.upper()}{y}-{int(n):05d}" for s, y, n in INVOICE_NUMBER_RE.findall(text)]
    without_numbers = INVOICE_NUMBER_RE.sub(" ", text)
    digits = DIGITS_RE.findall(re.sub(r"(?<=\d) (?=\d)", "", without_numbers))
    return digits, numbers


def _invoice_for(text: str) -> tuple[Invoice | None, str]:
    """The invoice a line's text points to, or None and why not."""
    digits, numbers = _references(text)
    if not digits and not numbers:
        return None, _("no payment reference or invoice number in the text")
    invoice = (
        Invoice.objects.filter(kind=Invoice.Kind.INVOICE)
        .filter(Q(payment_reference__in=digits) | Q(number__in=numbers))
        .exclude(status=Invoice.Status.DRAFT)
        .first()
    )
    if invoice is None:
        return None, _("unknown reference")
    return invoice, ""


@dataclass
class ImportResult:
    registered: list[tuple[StatementLine, Payment]] = field(default_factory=list)
    unmatched: list[tuple[StatementLine, str]] = field(default_factory=list)
    already_imported: list[StatementLine] = field(default_factory=list)
    outgoing: int = 0


def statement_import(*, content: bytes, by) -> ImportResult:
    """Parse a statement and register each incoming line that matches an invoice; list the others with the reason.
    A file that is not in the format registers nothing (`StatementError`); lines imported before are skipped."""
    lines = statement_parse(content)
    result = ImportResult()
    known = set(
        Payment.objects.filter(bank_line_key__in=[line.key for line in lines]).values_list("bank_line_key", flat=True)
    )
    with transaction.atomic():
        for line in lines:
            if line.amount <= 0:
                result.outgoing += 1
                continue
            if line.key in known:
                result.already_imported.append(line)
                continue
            invoice, why = _invoice_for(line.text)
            if invoice is None:
                result.unmatched.append((line, why))
                continue
            if invoice.status == Invoice.Status.PAID:
                result.unmatched.append((line, _("invoice %(number)s is already paid") % {"number": invoice.number}))
                continue
            if invoice.status == Invoice.Status.CREDITED:
                result.unmatched.append((line, _("invoice %(number)s is credited") % {"number": invoice.number}))
                continue
            try:
                payment = payment_register(
                    invoice=invoice,
                    amount=line.amount,
                    paid_on=line.booked_on,
                    by=by,
                    reference=line.text,
                    bank_line_key=line.key,
                )
            except BillingError:
                # payment_register refuses what is more than owed (or what another line of this file just paid).
                owed = invoice_owed(invoice=invoice)
                reason = (
                    _("amount too large: %(owed)s DKK is owed on %(number)s")
                    if owed > 0
                    else _("invoice %(number)s is already paid")
                ) % {"owed": money(owed), "number": invoice.number}
                result.unmatched.append((line, reason))
                continue
            result.registered.append((line, payment))
        audit_record(
            actor=by,
            action="billing.statement.import",
            data={"lines": len(lines), "registered": len(result.registered), "unmatched": len(result.unmatched)},
        )
    return result
