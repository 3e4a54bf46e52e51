"""The accounting export: documents and payments of a period, as CSV and XLSX, safe against formulas."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from billing.exports import accounting_rows
from billing.payments import payment_register
from billing.services import credit_note_issue
from tests.support.billing import invoice_issued

pytestmark = pytest.mark.django_db
FORMULA = '=HYPERLINK("http://evil.example","Click")'


@pytest.fixture
def documents():
    with translation.override("en"):
        first = invoice_issued(on=date(2027, 1, 15), name=FORMULA, ean="5798000000001")
        payment_register(invoice=first, amount="1250.00", paid_on=date(2027, 2, 3), by=None, reference="FI 1")
        second = invoice_issued(on=date(2027, 1, 20), net="400.00")
        credit_note_issue(invoice=second, reason="Cancelled", on=date(2027, 1, 31))
        invoice_issued(on=date(2027, 3, 1))  # outside the period
    return first, second


def test_rows_are_one_per_document_then_one_per_payment(documents):
    with translation.override("en"):
        rows = list(accounting_rows(start=date(2027, 1, 1), end=date(2027, 2, 28)))
    assert rows == [
        [
            "Document",
            "F2027-00001",
            "Invoice",
            date(2027, 1, 15),
            date(2027, 2, 14),
            FORMULA,
            "29190925",
            "5798000000001",
            Decimal("1000.00"),
            Decimal("250.00"),
            Decimal("1250.00"),
            "Paid",
            Decimal("1250.00"),
            "",
            "120270000017",
        ],
        [
            "Document",
            "F2027-00002",
            "Invoice",
            date(2027, 1, 20),
            date(2027, 2, 19),
            "Fjordbio ApS",
            "29190925",
            "",
            Decimal("400.00"),
            Decimal("100.00"),
            Decimal("500.00"),
            "Credited",
            Decimal("0.00"),
            "",
            "120270000025",
        ],
        [
            "Document",
            "K2027-00001",
            "Credit note",
            date(2027, 1, 31),
            date(2027, 3, 2),
            "Fjordbio ApS",
            "29190925",
            "",
            Decimal("-400.00"),
            Decimal("-100.00"),
            Decimal("-500.00"),
            "Issued",
            Decimal("0.00"),
            "",
            "220270000015",
        ],
        [
            "Payment",
            "F2027-00001",
            "Invoice",
            date(2027, 2, 3),
            "",
            FORMULA,
            "29190925",
            "5798000000001",
            "",
            "",
            Decimal("1250.00"),
            "",
            "",
            "Bank transfer",
            "FI 1",
        ],
    ]


def export_url(**params):
    return reverse("admin:billing_invoice_export").replace("/da/", "/en/"), params


def test_the_csv_download_keeps_the_formula_as_text(staff_client, documents):
    url, params = export_url(start="2027-01-01", end="2027-02-28", fmt="csv")
    response = staff_client.get(url, params)
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="accounting-2027-01-01-2027-02-28.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Record", "Number", "Kind"]
    assert [row[1] for row in rows[1:]] == ["F2027-00001", "F2027-00002", "K2027-00001", "F2027-00001"]
    assert rows[1][5] == "'" + FORMULA
    assert rows[3][10] == "-500.00"


def test_the_xlsx_download_keeps_the_formula_as_text_and_amounts_as_numbers(staff_client, documents):
    url, params = export_url(start="2027-01-01", end="2027-02-28", fmt="xlsx")
    response = staff_client.get(url, params)
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][5] == "'" + FORMULA
    assert sheet.cell(row=2, column=6).data_type == "s"
    assert (rows[1][3], rows[1][10], rows[3][10]) == ("2027-01-15", 1250, -500)


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"start": "2027-13-01", "end": "2027-02-28", "fmt": "csv"}, "Enter a valid date."),
        (
            {"start": "2027-03-01", "end": "2027-02-28", "fmt": "csv"},
            "The period must end on or after the day it starts.",
        ),
        ({"start": "", "end": "2027-02-28", "fmt": "csv"}, "This field is required."),
    ],
)
def test_a_bad_period_is_a_form_error(staff_client, params, error):
    url, _ = export_url()
    response = staff_client.get(url, params)
    assert response.status_code == 400
    assert error in response.content.decode()


def test_the_export_page_offers_last_month():
    from billing.forms import previous_month

    assert previous_month(date(2027, 3, 15)) == {"start": date(2027, 2, 1), "end": date(2027, 2, 28)}
    assert previous_month(date(2027, 1, 1)) == {"start": date(2026, 12, 1), "end": date(2026, 12, 31)}


def test_the_export_page_shows_the_form(staff_client):
    url, _ = export_url()
    response = staff_client.get(url)
    assert response.status_code == 200
    assert 'name="start"' in response.content.decode()
