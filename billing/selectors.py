"""Reads on billing: what is still owed on an invoice (its total less payments and credit notes), the invoices
flagged for staff after the last reminder, the dashboard's aged receivables and monthly revenue, and a customer's
own documents for the member portal."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, DecimalField, F, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing.models import ZERO, Invoice

AMOUNT = DecimalField(max_digits=12, decimal_places=2)
COUNTED = [Invoice.Status.ISSUED, Invoice.Status.PAID, Invoice.Status.CREDITED]


def _credited_subquery():
    """The gross of the issued credit notes of the outer invoice (0 without any)."""
    notes = (
        Invoice.objects.filter(credited_invoice=OuterRef("pk"), kind=Invoice.Kind.CREDIT_NOTE)
        .exclude(status=Invoice.Status.DRAFT)
        .order_by()
        .values("credited_invoice")
        .annotate(total=Sum("gross_total"))
        .values("total")
    )
    return Coalesce(Subquery(notes, output_field=AMOUNT), Value(ZERO), output_field=AMOUNT)


def invoices_with_owed(queryset: QuerySet[Invoice] | None = None) -> QuerySet[Invoice]:
    """Invoices annotated with `credited` (their credit notes' gross) and `owed` (gross less paid less credited)."""
    queryset = Invoice.objects.all() if queryset is None else queryset
    return queryset.annotate(credited=_credited_subquery()).annotate(
        owed=F("gross_total") - F("paid_total") - F("credited")
    )


def invoice_owed(*, invoice: Invoice) -> Decimal:
    """What the buyer still owes on an issued invoice: its gross less payments and issued credit notes."""
    return invoices_with_owed(Invoice.objects.filter(pk=invoice.pk)).values_list("owed", flat=True).get()


def invoices_open(*, hubs=None) -> QuerySet[Invoice]:
    """Issued invoices not yet paid, with `owed`."""
    queryset = Invoice.objects.filter(kind=Invoice.Kind.INVOICE, status=Invoice.Status.ISSUED)
    if hubs is not None:
        queryset = queryset.filter(hub__in=hubs)
    return invoices_with_owed(queryset)


def invoices_flagged(*, hubs=None) -> QuerySet[Invoice]:
    """Unpaid invoices whose reminders have all been sent: staff take over (members suspends the membership)."""
    queryset = Invoice.objects.filter(
        kind=Invoice.Kind.INVOICE, status=Invoice.Status.ISSUED, flagged_at__isnull=False
    ).order_by("flagged_at", "pk")
    if hubs is not None:
        queryset = queryset.filter(hub__in=hubs)
    return queryset


@dataclass(frozen=True)
class AgeBucket:
    key: str
    label: str
    amount: Decimal
    count: int


def aged_receivables(*, today: date | None = None, hubs=None) -> list[AgeBucket]:
    """Owed on open invoices by days past the due date: not yet due, 0 to 30, 31 to 60, 61 to 90 and over 90."""
    today = today or timezone.localdate()

    def past(days: int) -> date:
        return today - timedelta(days=days)

    buckets = [
        ("not_due", _("Not yet due"), Q(due_date__gt=today)),
        ("0_30", _("0–30 days past due"), Q(due_date__lte=today, due_date__gte=past(30))),
        ("31_60", _("31–60 days past due"), Q(due_date__lt=past(30), due_date__gte=past(60))),
        ("61_90", _("61–90 days past due"), Q(due_date__lt=past(60), due_date__gte=past(90))),
        ("over_90", _("Over 90 days past due"), Q(due_date__lt=past(90))),
    ]
    aggregates = {}
    for key, _label, condition in buckets:
        aggregates[f"{key}_amount"] = Coalesce(Sum("owed", filter=condition), Value(ZERO), output_field=AMOUNT)
        aggregates[f"{key}_count"] = Count("pk", filter=condition)
    figures = invoices_open(hubs=hubs).order_by().aggregate(**aggregates)
    return [
        AgeBucket(key=key, label=label, amount=figures[f"{key}_amount"], count=figures[f"{key}_count"])
        for key, label, _condition in buckets
    ]


def _month_start(day: date, months_back: int) -> date:
    index = day.year * 12 + day.month - 1 - months_back
    return date(index // 12, index % 12 + 1, 1)


def monthly_revenue(*, today: date | None = None, months: int = 12, hubs=None) -> list[dict]:
    """Net revenue by month of issue for the last `months` months (this one included, oldest first): invoices less
    credit notes, each {"month": first day, "net": Decimal}."""
    today = today or timezone.localdate()
    first = _month_start(today, months - 1)
    documents = Invoice.objects.filter(status__in=COUNTED, issue_date__gte=first, issue_date__lte=today)
    if hubs is not None:
        documents = documents.filter(hub__in=hubs)
    rows = (
        documents.order_by()
        .annotate(month=TruncMonth("issue_date"))
        .values("month", "kind")
        .annotate(net=Sum("net_total"))
    )
    by_month: dict[date, Decimal] = {}
    for row in rows:
        sign = -1 if row["kind"] == Invoice.Kind.CREDIT_NOTE else 1
        by_month[row["month"]] = by_month.get(row["month"], ZERO) + sign * row["net"]
    return [
        {"month": month, "net": by_month.get(month, ZERO)}
        for month in (_month_start(today, back) for back in range(months - 1, -1, -1))
    ]


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
