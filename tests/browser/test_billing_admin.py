"""The billing admin in Chromium: the invoice list's key columns fit 1280 px, a payment is registered on the
invoice's page, and a bank statement is uploaded and its unmatched lines listed."""

from datetime import timedelta

import pytest
from django.utils import timezone

from billing.models import Invoice, Payment
from tests.browser.journeys import staff_log_in
from tests.support.billing import invoice_issued

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_register_a_payment_and_import_a_statement(page, assert_accessible, tmp_path):
    today = timezone.localdate()
    invoice = invoice_issued(on=today - timedelta(days=45), name="Copenhagen Health Tech Innovation ApS")
    other = invoice_issued(on=today - timedelta(days=5))
    staff_log_in(page)

    page.goto("/da/admin/billing/invoice/")
    for column in ("number_column", "status_badge", "buyer_name", "due_on", "amount_column"):
        header = page.locator(f"th.column-{column}").bounding_box()
        assert header["x"] + header["width"] <= 1280, column
    assert page.locator(f"tr:has-text('{invoice.number}') .status-overdue").inner_text() == "forfalden"

    page.goto(f"/da/admin/billing/invoice/{invoice.pk}/change/")
    page.get_by_role("link", name="Registrér en betaling…").click()
    page.locator("#id_amount").fill("1.000,50")
    page.get_by_role("button", name="Registrér betalingen").click()
    page.wait_for_load_state()
    assert "En betaling på 1.000,50 kr. på" in page.locator(".messagelist").inner_text()
    assert str(Payment.objects.get().amount) == "1000.50"
    page.get_by_role("link", name="Registrér en betaling…").click()
    page.locator("#id_amount").fill("5000")
    page.get_by_role("button", name="Registrér betalingen").click()
    assert "skyldes på" in page.locator(".errornote").inner_text()
    # The refusal answers 400, which Chromium logs as a failed resource: that one is expected.
    assert page.console_errors == ["Failed to load resource: the server responded with a status of 400 (Bad Request)"]
    page.console_errors.clear()
    assert_accessible(page)

    statement = tmp_path / "kontoudtog.csv"
    statement.write_bytes(
        (
            "Dato;Tekst;Beløb;Saldo\r\n"
            f"{today:%d-%m-%Y};FI-indbetaling {other.payment_reference};1.250,00;9.000,00\r\n"
            f"{today:%d-%m-%Y};MobilePay 4471;350,00;9.350,00\r\n"
        ).encode("cp1252")
    )
    page.goto("/da/admin/billing/invoice/bank-statement/")
    page.locator("input[name=statement]").set_input_files(str(statement))
    page.get_by_role("button", name="Importér").click()
    page.wait_for_load_state()
    assert page.locator("#statement-registered tbody tr").count() == 1
    assert "ingen betalingsreference" in page.locator("#statement-unmatched").inner_text()
    assert Invoice.objects.get(pk=other.pk).status == "paid"
    assert_accessible(page)
    assert page.console_errors == []
