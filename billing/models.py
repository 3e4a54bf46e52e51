"""Invoices and credit notes, their lines, the counters that number them without gaps, and payments.

A document is a draft until it is issued; issuing gives it the next number of its series and year (under the
counter's row lock), fixes its totals and its buyer, and from then on it never changes: a correction is a credit
note. What the buyer is (an organisation, a guest) is copied onto the document, so billing never reads members."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from common.errors import InvalidTransition

ZERO = Decimal("0.00")


class VatCategory(models.TextChoices):
    """The EN 16931 VAT category codes (UNCL5305) that a Danish association uses."""

    STANDARD = "S", _("VAT 25 %")
    EXEMPT = "E", _("Exempt from VAT")


VAT_RATES = {VatCategory.STANDARD: Decimal("25.00"), VatCategory.EXEMPT: Decimal("0.00")}


class NumberCounter(models.Model):
    """The last number used in one series and year. Only `billing.numbering` touches it, under its row lock, in
    the transaction that issues the document: a rolled-back issue gives its number back, so numbers have no gaps."""

    series = models.CharField(_("series"), max_length=10)
    year = models.PositiveIntegerField(_("year"))
    last_number = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("number series")
        verbose_name_plural = _("number series")
        constraints = [models.UniqueConstraint(fields=["series", "year"], name="billing_counter_one_per_year")]

    def __str__(self):
        return f"{self.series} {self.year}: {self.last_number}"


def invoice_pdf_path(invoice, filename: str) -> str:
    return f"invoices/{invoice.year}/{filename}"


class Invoice(models.Model):
    class Kind(models.TextChoices):
        INVOICE = "invoice", _("Invoice")
        CREDIT_NOTE = "credit_note", _("Credit note")

    class Status(models.TextChoices):
        DRAFT = "draft", pgettext_lazy("invoice status", "Draft")
        ISSUED = "issued", pgettext_lazy("invoice status", "Issued")
        PAID = "paid", pgettext_lazy("invoice status", "Paid")
        CREDITED = "credited", pgettext_lazy("invoice status", "Credited")

    class Category(models.TextChoices):
        MEMBERSHIP = "membership", _("Membership")
        EVENT = "event", _("Event")
        OTHER = "other", _("Other")

    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.INVOICE)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    category = models.CharField(_("type"), max_length=12, choices=Category.choices, default=Category.OTHER)
    series = models.CharField(_("series"), max_length=10, blank=True)
    year = models.PositiveIntegerField(_("year"), null=True, blank=True)
    sequence = models.PositiveIntegerField(_("sequence"), null=True, blank=True)
    number = models.CharField(_("number"), max_length=30, null=True, blank=True, unique=True)
    # What this document is for, e.g. "membership:17:2027-01-01": one document per origin and kind, so a run
    # repeated (or two at once) never issues the same thing twice.
    origin = models.CharField(_("origin"), max_length=120, blank=True)
    # Who the buyer is for the code that made the document ("organisation:17", "guest:<registration>"); opaque here.
    customer_key = models.CharField(_("customer"), max_length=80, blank=True, db_index=True)
    hub = models.ForeignKey(
        "hubs.Hub", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("hub")
    )
    credited_invoice = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credit_notes",
        verbose_name=_("credited invoice"),
    )
    credit_reason = models.CharField(_("reason for the credit note"), max_length=200, blank=True)
    language = models.CharField(_("language"), max_length=5, choices=settings.LANGUAGES, default="da")
    currency = models.CharField(_("currency"), max_length=3, default="DKK")
    issue_date = models.DateField(_("issue date"), null=True, blank=True)
    due_date = models.DateField(_("due date"), null=True, blank=True)
    payment_terms_days = models.PositiveIntegerField(_("payment terms (days)"), default=30)
    payment_reference = models.CharField(_("payment reference"), max_length=40, blank=True, db_index=True)
    # The buyer as it was when the document was issued.
    buyer_name = models.CharField(_("buyer"), max_length=200)
    buyer_address = models.CharField(_("address"), max_length=200, blank=True)
    buyer_postcode = models.CharField(_("postcode"), max_length=10, blank=True)
    buyer_city = models.CharField(_("city"), max_length=80, blank=True)
    buyer_country = models.CharField(_("country"), max_length=2, default="DK")
    buyer_cvr = models.CharField(_("CVR number"), max_length=8, blank=True)
    buyer_vat_number = models.CharField(_("VAT number"), max_length=20, blank=True)
    buyer_ean = models.CharField(_("EAN number"), max_length=13, blank=True)
    buyer_email = models.EmailField(_("billing email"), blank=True)
    buyer_contact_name = models.CharField(_("the customer's reference person"), max_length=120, blank=True)
    buyer_reference = models.CharField(_("buyer reference"), max_length=60, blank=True)
    order_reference = models.CharField(_("PO / requisition number"), max_length=60, blank=True)
    net_total = models.DecimalField(_("total without VAT"), max_digits=12, decimal_places=2, default=ZERO)
    vat_total = models.DecimalField(_("VAT"), max_digits=12, decimal_places=2, default=ZERO)
    gross_total = models.DecimalField(_("total with VAT"), max_digits=12, decimal_places=2, default=ZERO)
    paid_total = models.DecimalField(_("paid"), max_digits=12, decimal_places=2, default=ZERO)
    pdf = models.FileField(_("PDF"), upload_to=invoice_pdf_path, blank=True)
    dunning_level = models.PositiveSmallIntegerField(_("reminders sent"), default=0)
    flagged_at = models.DateTimeField(_("flagged for staff"), null=True, blank=True)
    issued_at = models.DateTimeField(_("issued"), null=True, blank=True)
    paid_at = models.DateTimeField(_("paid"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ["-issue_date", "-sequence", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "origin"],
                condition=~models.Q(origin=""),
                name="billing_invoice_one_per_origin",
            ),
            models.UniqueConstraint(
                fields=["series", "year", "sequence"],
                condition=models.Q(sequence__isnull=False),
                name="billing_invoice_sequence_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(status="draft") | models.Q(number__isnull=False),
                name="billing_invoice_issued_has_number",
            ),
        ]
        indexes = [models.Index(fields=["status", "due_date"], name="billing_invoice_status_due_idx")]

    def __str__(self):
        label = self.number or _("draft %(pk)s") % {"pk": self.pk}
        return f"{self.get_kind_display()} {label}"

    @property
    def is_credit_note(self) -> bool:
        return self.kind == self.Kind.CREDIT_NOTE

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT

    @property
    def balance(self) -> Decimal:
        """What is still owed (an invoice) or still to be refunded (a credit note)."""
        return self.gross_total - self.paid_total

    def is_overdue(self, *, today) -> bool:
        return self.status == self.Status.ISSUED and self.due_date is not None and self.due_date < today

    def issue(self, *, series: str, year: int, sequence: int, number: str, issue_date, due_date) -> None:
        if self.status != self.Status.DRAFT:
            raise InvalidTransition(_("This document has already been issued."))
        self.series, self.year, self.sequence, self.number = series, year, sequence, number
        self.issue_date, self.due_date = issue_date, due_date
        self.status = self.Status.ISSUED
        self.issued_at = timezone.now()

    def mark_paid(self) -> None:
        if self.status != self.Status.ISSUED:
            raise InvalidTransition(_("Only an issued invoice can be paid."))
        self.status = self.Status.PAID
        self.paid_at = timezone.now()

    def mark_credited(self) -> None:
        if self.status not in (self.Status.ISSUED, self.Status.PAID) or self.is_credit_note:
            raise InvalidTransition(_("Only an issued invoice can be credited."))
        self.status = self.Status.CREDITED


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines", verbose_name=_("invoice"))
    position = models.PositiveSmallIntegerField(_("position"), default=1)
    description = models.CharField(_("description"), max_length=200)
    quantity = models.DecimalField(
        _("quantity"), max_digits=10, decimal_places=2, default=Decimal("1.00"), validators=[MinValueValidator(0)]
    )
    unit_price = models.DecimalField(
        _("unit price (DKK)"), max_digits=12, decimal_places=2, validators=[MinValueValidator(0)]
    )
    vat_category = models.CharField(_("VAT"), max_length=1, choices=VatCategory.choices, default=VatCategory.STANDARD)
    vat_rate = models.DecimalField(_("VAT rate (%)"), max_digits=5, decimal_places=2, default=Decimal("25.00"))
    net_amount = models.DecimalField(_("amount without VAT"), max_digits=12, decimal_places=2, default=ZERO)
    period_start = models.DateField(_("period start"), null=True, blank=True)
    period_end = models.DateField(_("period end"), null=True, blank=True)

    class Meta:
        verbose_name = _("invoice line")
        verbose_name_plural = _("invoice lines")
        ordering = ["invoice", "position", "pk"]

    def __str__(self):
        return self.description


class Payment(models.Model):
    class Method(models.TextChoices):
        BANK = "bank", _("Bank transfer")
        CARD = "card", _("Card")
        OTHER = "other", _("Other")

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments", verbose_name=_("invoice"))
    amount = models.DecimalField(
        _("amount (DKK)"), max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    paid_on = models.DateField(_("paid on"))
    method = models.CharField(_("method"), max_length=10, choices=Method.choices, default=Method.BANK)
    reference = models.CharField(_("reference"), max_length=120, blank=True)
    # A bank statement line's fingerprint: importing the same statement twice registers each payment once.
    bank_line_key = models.CharField(_("bank line"), max_length=64, null=True, blank=True, unique=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("registered"), default=timezone.now)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-paid_on", "-pk"]
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="billing_payment_positive")]

    def __str__(self):
        return f"{self.amount} DKK {self.paid_on:%Y-%m-%d}"
