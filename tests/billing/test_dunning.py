"""Dunning: reminders at the configured days after the due date, once each, in the buyer's language; the invoice
flagged for staff after the last one; a payment stops it, even one registered while the run goes."""

from datetime import date, timedelta

import pytest
from django.conf import settings

from billing.dunning import dunning_run, invoice_remind
from billing.models import Invoice
from billing.payments import payment_register
from billing.selectors import invoices_flagged
from outbox.models import OutboxMessage
from tests.support.billing import invoice_issued

pytestmark = pytest.mark.django_db
ISSUED_ON = date(2027, 1, 15)
DUE = date(2027, 2, 14)  # 30 days later


def reminders():
    return list(
        OutboxMessage.objects.filter(template="billing/email/reminder")
        .order_by("pk")
        .values_list("dedupe_key", "to", "language")
    )


def test_the_beat_schedule_runs_dunning_daily_with_reminders_at_7_and_21_days():
    assert settings.CELERY_BEAT_SCHEDULE["billing-dunning"]["task"] == "billing.tasks.dunning_run_task"
    assert settings.BILLING_DUNNING_DAYS == (7, 21)


def test_reminders_go_at_7_and_21_days_once_each_then_the_invoice_is_flagged():
    invoice = invoice_issued(on=ISSUED_ON)
    assert invoice.due_date == DUE
    key = f"billing:invoice:{invoice.pk}:reminder"
    assert dunning_run(today=DUE + timedelta(days=6)).reminded == []
    assert dunning_run(today=DUE + timedelta(days=7)).reminded == [invoice.pk]
    assert dunning_run(today=DUE + timedelta(days=8)).reminded == []
    assert reminders() == [(f"{key}:1", "faktura@fjordbio.example", "da")]
    assert dunning_run(today=DUE + timedelta(days=20)).reminded == []
    result = dunning_run(today=DUE + timedelta(days=21))
    assert (result.reminded, result.flagged) == ([invoice.pk], [invoice.pk])
    assert dunning_run(today=DUE + timedelta(days=40)).reminded == []
    assert [row[0] for row in reminders()] == [f"{key}:1", f"{key}:2"]
    invoice.refresh_from_db()
    assert invoice.dunning_level == 2
    assert invoice.flagged_at is not None
    assert list(invoices_flagged()) == [invoice]


def test_the_reminder_is_written_in_the_buyers_language():
    invoice_issued(on=ISSUED_ON, language="en", email="billing@example.com")
    invoice_issued(on=ISSUED_ON, language="da")
    dunning_run(today=DUE + timedelta(days=7))
    subjects = list(OutboxMessage.objects.order_by("to").values_list("to", "subject"))
    assert subjects == [
        ("billing@example.com", "Reminder 1: invoice F2027-00001 is overdue"),
        ("faktura@fjordbio.example", "Rykker 1: faktura F2027-00002 er forfalden"),
    ]
    body = OutboxMessage.objects.get(to="billing@example.com").body_text
    assert "The amount still owed is 1,250.00 DKK." in body
    assert "120270000017" in body


def test_a_run_missed_for_weeks_sends_only_the_reminder_due_now():
    invoice = invoice_issued(on=ISSUED_ON)
    dunning_run(today=DUE + timedelta(days=30))
    assert [row[0] for row in reminders()] == [f"billing:invoice:{invoice.pk}:reminder:2"]
    assert Invoice.objects.get(pk=invoice.pk).flagged_at is not None


def test_a_paid_invoice_is_not_reminded_and_a_partly_paid_one_is_reminded_of_the_rest():
    paid = invoice_issued(on=ISSUED_ON)
    payment_register(invoice=paid, amount="1250", paid_on=DUE, by=None)
    partly = invoice_issued(on=ISSUED_ON, language="en")
    payment_register(invoice=partly, amount="250", paid_on=DUE, by=None)
    assert dunning_run(today=DUE + timedelta(days=7)).reminded == [partly.pk]
    assert "The amount still owed is 1,000.00 DKK." in OutboxMessage.objects.get().body_text


def test_a_payment_registered_during_the_run_stops_the_reminder():
    invoice = invoice_issued(on=ISSUED_ON)
    stale = Invoice.objects.get(pk=invoice.pk)  # what the run read before the payment came in
    payment_register(invoice=invoice, amount="1250", paid_on=DUE, by=None)
    assert invoice_remind(invoice=stale, level=1, today=DUE + timedelta(days=7)) is False
    assert reminders() == []
    assert Invoice.objects.get(pk=invoice.pk).dunning_level == 0


def test_without_a_billing_email_the_invoice_goes_to_staff_at_once():
    invoice = invoice_issued(on=ISSUED_ON, email="")
    assert dunning_run(today=DUE + timedelta(days=7)).flagged == [invoice.pk]
    assert reminders() == []


def test_the_days_follow_the_setting(settings):
    settings.BILLING_DUNNING_DAYS = (3,)
    invoice = invoice_issued(on=ISSUED_ON)
    result = dunning_run(today=DUE + timedelta(days=3))
    assert (result.reminded, result.flagged) == ([invoice.pk], [invoice.pk])


@pytest.mark.django_db(transaction=True)
def test_an_invoice_locked_by_a_payment_being_written_is_left_for_the_next_run(settings):
    from tests.support.locks import RowHolder
    from tests.support.services import require_postgres

    require_postgres()
    settings.DB_LOCK_TIMEOUT_MS = 100
    locked, free = invoice_issued(on=ISSUED_ON), invoice_issued(on=ISSUED_ON)
    with RowHolder(Invoice, locked.pk):
        assert dunning_run(today=DUE + timedelta(days=7)).reminded == [free.pk]
    assert dunning_run(today=DUE + timedelta(days=8)).reminded == [locked.pk]
