"""Reminders for unpaid invoices: reminder n goes out `BILLING_DUNNING_DAYS[n-1]` days after the due date, once
(an outbox dedupe key), in the buyer's language; after the last one the invoice is flagged for staff. The mail is
rendered before the invoice is locked, and the status is read again under the lock, so a payment registered
while the run goes stops the reminder it would otherwise have written."""

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.audit import audit_record
from billing.models import Invoice
from billing.selectors import invoice_owed
from common.locks import LockBusy, lock_one
from outbox.api import mail_enqueue_rendered, mail_render

REMINDER_TEMPLATE = "billing/email/reminder"


def dunning_days() -> list[int]:
    return sorted(int(days) for days in settings.BILLING_DUNNING_DAYS)


def reminder_level_due(*, invoice: Invoice, today: date) -> int:
    """How many reminders an issued invoice should have had by `today` (0 before the first is due)."""
    if invoice.due_date is None:
        return 0
    overdue = (today - invoice.due_date).days
    return sum(1 for days in dunning_days() if overdue >= days)


def reminder_dedupe_key(*, invoice: Invoice, level: int) -> str:
    return f"billing:invoice:{invoice.pk}:reminder:{level}"


def invoice_remind(*, invoice: Invoice, level: int, today: date | None = None) -> bool:
    """Write reminder `level` for an invoice still unpaid, and flag it after the last one. True when a reminder was
    written (or the invoice flagged); False when a payment, a credit note or an earlier run got there first."""
    today = today or timezone.localdate()
    last = len(dunning_days())
    rendered = None
    if invoice.buyer_email:
        context = {
            "invoice": invoice,
            "level": level,
            "owed": invoice_owed(invoice=invoice),
            "seller": settings.BILLING_SELLER,
        }
        rendered = mail_render(template=REMINDER_TEMPLATE, language=invoice.language, context=context)
    with transaction.atomic():
        invoice = lock_one(invoice)
        if invoice.status != Invoice.Status.ISSUED or invoice.dunning_level >= level or invoice.flagged_at:
            return False
        if invoice_owed(invoice=invoice) <= 0:
            return False
        if rendered is not None:
            subject, body_text, body_html = rendered
            mail_enqueue_rendered(
                template=REMINDER_TEMPLATE,
                to=invoice.buyer_email,
                language=invoice.language,
                subject=subject,
                body_text=body_text,
                body_html=body_html,
                dedupe_key=reminder_dedupe_key(invoice=invoice, level=level),
            )
        invoice.dunning_level = level
        fields = ["dunning_level"]
        # Without a billing email no reminder can reach the buyer: staff take over at once.
        if level >= last or rendered is None:
            invoice.flagged_at = timezone.now()
            fields.append("flagged_at")
        invoice.save(update_fields=fields)
        audit_record(
            actor=None,
            action="billing.invoice.remind",
            target=invoice,
            data={"level": level, "on": today.isoformat(), "flagged": invoice.flagged_at is not None},
        )
    return True


@dataclass
class DunningResult:
    reminded: list[int] = field(default_factory=list)
    flagged: list[int] = field(default_factory=list)


def dunning_run(*, today: date | None = None) -> DunningResult:
    """Remind every issued invoice whose next reminder is due by `today`. A run missed for weeks sends only the
    reminder due now, not the ones before it."""
    today = today or timezone.localdate()
    days = dunning_days()
    result = DunningResult()
    if not days:
        return result
    candidates = Invoice.objects.filter(
        kind=Invoice.Kind.INVOICE,
        status=Invoice.Status.ISSUED,
        flagged_at__isnull=True,
        due_date__lte=today - timedelta(days=days[0]),
    ).order_by("due_date", "pk")
    for invoice in candidates:
        level = reminder_level_due(invoice=invoice, today=today)
        if level <= invoice.dunning_level:
            continue
        try:
            reminded = invoice_remind(invoice=invoice, level=level, today=today)
        except LockBusy:
            continue  # a payment or a credit note is being written right now; tomorrow's run looks again
        if reminded:
            result.reminded.append(invoice.pk)
            invoice.refresh_from_db(fields=["flagged_at"])
            if invoice.flagged_at:
                result.flagged.append(invoice.pk)
    return result
