"""The billing dashboard: aged receivables, monthly revenue (invoices less credit notes) and flagged invoices."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from billing.dunning import dunning_run
from billing.payments import payment_register
from billing.selectors import aged_receivables, invoices_flagged, monthly_revenue
from billing.services import Line, credit_note_issue
from hubs.models import Hub
from tests.support.billing import invoice_issued

pytestmark = pytest.mark.django_db
TODAY = date(2027, 6, 30)


def issued_due(days_past_due: int, net="1000.00", **fields):
    """An invoice due `days_past_due` days before TODAY (terms are 30 days)."""
    return invoice_issued(on=TODAY - timedelta(days=days_past_due + 30), net=net, **fields)


def test_aged_receivables_sum_what_is_owed_by_days_past_due():
    issued_due(-1, net="100.00")  # due tomorrow: 125.00 not yet due
    issued_due(0, net="200.00")  # due today: 250.00
    partly = issued_due(30, net="400.00")  # 500.00, 120.00 of it paid
    payment_register(invoice=partly, amount="120.00", paid_on=TODAY, by=None)
    credited = issued_due(31, net="800.00")  # 1000.00, 200.00 of it credited
    credit_note_issue(invoice=credited, reason="Discount", lines=[Line(description="x", unit_price=Decimal("160"))])
    issued_due(60, net="16.00")  # 20.00
    issued_due(61, net="8.00")  # 10.00
    issued_due(90, net="4.00")  # 5.00
    issued_due(91, net="2.00")  # 2.50
    paid = issued_due(200)
    payment_register(invoice=paid, amount="1250.00", paid_on=TODAY, by=None)
    fully_credited = issued_due(150)
    credit_note_issue(invoice=fully_credited, reason="Cancelled")
    buckets = aged_receivables(today=TODAY)
    assert [(bucket.key, bucket.count, bucket.amount) for bucket in buckets] == [
        ("not_due", 1, Decimal("125.00")),
        ("0_30", 2, Decimal("630.00")),
        ("31_60", 2, Decimal("820.00")),
        ("61_90", 2, Decimal("15.00")),
        ("over_90", 1, Decimal("2.50")),
    ]


def test_monthly_revenue_is_net_invoices_less_credit_notes_for_twelve_months():
    invoice_issued(on=date(2026, 6, 30), net="9999.00")  # thirteen months back: outside
    invoice_issued(on=date(2026, 7, 1), net="100.00")
    january = invoice_issued(on=date(2027, 1, 15), net="1000.00")
    invoice_issued(on=date(2027, 1, 31), net="250.50")
    discount = [Line(description="x", unit_price=Decimal("300"))]
    credit_note_issue(invoice=january, reason="Discount", lines=discount, on=date(2027, 2, 1))
    invoice_issued(on=date(2027, 6, 30), net="40.00")
    invoice_issued(on=date(2027, 7, 1), net="77.00")  # after today
    revenue = monthly_revenue(today=TODAY)
    assert [row["month"] for row in revenue] == [date(2026, 7, 1)] + [date(2026, m, 1) for m in range(8, 13)] + [
        date(2027, m, 1) for m in range(1, 7)
    ]
    assert {row["month"]: row["net"] for row in revenue if row["net"]} == {
        date(2026, 7, 1): Decimal("100.00"),
        date(2027, 1, 1): Decimal("1250.50"),
        date(2027, 2, 1): Decimal("-300.00"),
        date(2027, 6, 1): Decimal("40.00"),
    }


def test_flagged_invoices_leave_the_list_when_paid_and_follow_the_hub():
    aarhus, odense = Hub.objects.get(slug="aarhus"), Hub.objects.get(slug="odense")
    first = issued_due(21, hub=aarhus)
    second = issued_due(21, hub=odense)
    dunning_run(today=TODAY)
    assert list(invoices_flagged()) == [first, second]
    assert list(invoices_flagged(hubs=Hub.objects.filter(pk=odense.pk))) == [second]
    payment_register(invoice=second, amount="1250", paid_on=TODAY, by=None)
    assert list(invoices_flagged()) == [first]


def test_the_admin_index_shows_the_billing_panel(staff_client):
    from django.utils import timezone

    invoice = invoice_issued(on=timezone.localdate() - timedelta(days=130))
    dunning_run()
    response = staff_client.get("/en/admin/")
    body = response.content.decode()
    assert 'id="aged-receivables"' in body
    assert "Over 90 days past due" in body
    assert 'id="chart-revenue"' in body
    assert f'<a href="/en/admin/billing/invoice/{invoice.pk}/change/">{invoice.number}</a>' in body


def test_the_to_act_on_figures_count_flagged_invoices_and_link_to_them(staff_client):
    from django.utils import timezone

    invoice_issued(on=timezone.localdate() - timedelta(days=60))
    invoice_issued(on=timezone.localdate() - timedelta(days=31))  # overdue, reminded once, not flagged
    dunning_run()
    figures = {figure["key"]: figure for figure in staff_client.get("/en/admin/").context["staff_figures"]}
    flagged = figures["flagged_invoices"]
    assert (flagged["count"], str(flagged["label"])) == (1, "invoice unpaid after the last reminder")
    assert staff_client.get(flagged["url"]).context["cl"].result_count == 1
