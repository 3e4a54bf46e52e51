"""The invoice PDF in the customer's language: its text holds the number, the totals as the PDF formats them, the
payment reference and the bank details; a credit note says which invoice it credits."""

from dataclasses import replace
from io import BytesIO

import pytest
from pypdf import PdfReader

from billing.pdf import invoice_pdf_render
from tests.support.billing import REGION, credited, event_lines, issued, several_lines

pytestmark = pytest.mark.django_db


def pdf_text(content: bytes) -> str:
    reader = PdfReader(BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_a_danish_invoice():
    invoice = issued(buyer=replace(REGION, language="da"), lines=several_lines(), origin="misc:1")
    content = invoice_pdf_render(invoice=invoice)
    assert content.startswith(b"%PDF-")
    text = pdf_text(content)
    for expected in [
        "Faktura",
        "F2027-00001",
        "Danish Life Science Cluster",
        "CVR 41929006",
        "Fakturadato 15.01.2027",
        "Forfaldsdato 14.02.2027",
        "Total uden moms 9.500,29 DKK",
        "Moms 25 % af 9.000,29 2.250,07 DKK",
        "Momsfritaget (500,00) 0,00 DKK",
        "At betale i alt 11.750,36 DKK",
        f"Betalingsreference {invoice.payment_reference}",
        "Reg.nr. / Kontonr. 1234 0012345678",
        "IBAN / BIC DK5000400440116243 / DABADKKK",
        "EAN 5798000000001",
        "Jeres reference 4410-Mette Holm",
    ]:
        assert expected in text
    assert invoice.payment_reference == "120270000017"


def test_an_english_invoice():
    invoice = issued(buyer=replace(REGION, language="en"), lines=event_lines(), origin="registration:1")
    text = pdf_text(invoice_pdf_render(invoice=invoice))
    for expected in [
        "Invoice",
        "F2027-00001",
        "Issue date 15/01/2027",
        "Due date 14/02/2027",
        "Registration: Meet & Match Medtech 2027",
        "Total without VAT 1,450.00 DKK",
        "VAT 25 % of 1,450.00 362.50 DKK",
        "Total to pay 1,812.50 DKK",
        "Payment reference 120270000017",
        "Please pay 1,812.50 DKK by 14/02/2027",
    ]:
        assert expected in text
    assert "Faktura" not in text


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "da",
            [
                "Kreditnota",
                "K2027-00001",
                "Denne kreditnota krediterer faktura F2027-00001 af 15.01.2027.",
                "Krediteret i alt 10.000,00 DKK",
                "Begrundelse: Wrong size band",
            ],
        ),
        (
            "en",
            [
                "Credit note",
                "K2027-00001",
                "This credit note credits invoice F2027-00001 of 15/01/2027.",
                "Total credited 10,000.00 DKK",
                "Reason: Wrong size band",
            ],
        ),
    ],
)
def test_a_credit_note_is_marked_with_the_invoice_it_credits(language, expected):
    note = credited(issued(buyer=replace(REGION, language=language), origin="membership:1:2027"))
    text = pdf_text(invoice_pdf_render(invoice=note))
    for phrase in expected:
        assert phrase in text
    assert "IBAN" not in text
