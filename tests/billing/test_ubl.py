"""The Peppol BIS Billing 3.0 UBL of invoices and credit notes: what each carries, and that every document the tests
make passes the UBL 2.1 schema and the EN 16931 and Peppol rules with no error."""

from dataclasses import replace
from decimal import Decimal

import pytest
from lxml import etree

from billing.services import BillingError, Line, invoice_draft_create
from billing.ubl import invoice_ubl
from billing.ubl_validation import ubl_validate
from tests.support.billing import (
    COMPANY,
    REGION,
    credited,
    event_lines,
    exempt_lines,
    issued,
    several_lines,
)

NS = {
    "inv": "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
    "cn": "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}

pytestmark = pytest.mark.django_db


def parsed(xml: bytes):
    return etree.fromstring(xml)


def texts(root, path: str) -> list[str]:
    return [element.text for element in root.xpath(path, namespaces=NS)]


def one(root, path: str) -> str:
    (value,) = texts(root, path)
    return value


def attribute(root, path: str, name: str) -> str:
    (element,) = root.xpath(path, namespaces=NS)
    return element.get(name)


def test_a_standard_vat_invoice_for_a_public_buyer():
    invoice = issued(origin="membership:1:2027-01-01", category="membership")
    xml = invoice_ubl(invoice=invoice)
    assert ubl_validate(xml, warnings=True) == []
    root = parsed(xml)
    assert root.tag == "{urn:oasis:names:specification:ubl:schema:xsd:Invoice-2}Invoice"
    assert one(root, "cbc:CustomizationID") == (
        "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
    )
    assert one(root, "cbc:ProfileID") == "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
    assert (one(root, "cbc:ID"), one(root, "cbc:IssueDate"), one(root, "cbc:DueDate")) == (
        "F2027-00001",
        "2027-01-15",
        "2027-02-14",
    )
    assert (one(root, "cbc:InvoiceTypeCode"), one(root, "cbc:DocumentCurrencyCode")) == ("380", "DKK")
    assert one(root, "cbc:BuyerReference") == "4410-Mette Holm"
    assert one(root, "cac:OrderReference/cbc:ID") == "PO-2027-118"

    seller = "cac:AccountingSupplierParty/cac:Party"
    assert (one(root, f"{seller}/cbc:EndpointID"), attribute(root, f"{seller}/cbc:EndpointID", "schemeID")) == (
        "41929006",
        "0184",
    )
    assert one(root, f"{seller}/cac:PartyTaxScheme/cbc:CompanyID") == "DK41929006"
    assert one(root, f"{seller}/cac:PartyLegalEntity/cbc:RegistrationName") == "Danish Life Science Cluster"
    assert attribute(root, f"{seller}/cac:PartyLegalEntity/cbc:CompanyID", "schemeID") == "0184"

    buyer = "cac:AccountingCustomerParty/cac:Party"
    assert (one(root, f"{buyer}/cbc:EndpointID"), attribute(root, f"{buyer}/cbc:EndpointID", "schemeID")) == (
        "5798000000001",
        "0088",
    )
    assert one(root, f"{buyer}/cac:PartyTaxScheme/cbc:CompanyID") == "DK29190925"
    assert one(root, f"{buyer}/cac:PartyLegalEntity/cbc:CompanyID") == "29190925"
    assert texts(root, f"{buyer}/cac:PostalAddress/cbc:*|{buyer}/cac:PostalAddress/cac:Country/cbc:*") == [
        "Skottenborg 26",
        "Viborg",
        "8800",
        "DK",
    ]

    assert texts(root, "cac:PaymentMeans/cbc:PaymentMeansCode") == ["31"]
    assert texts(root, "cac:PaymentMeans/cbc:PaymentID") == [invoice.payment_reference]
    assert texts(root, "cac:PaymentMeans/cac:PayeeFinancialAccount/cbc:ID") == ["DK5000400440116243"]
    assert texts(root, "cac:PaymentMeans/cac:PayeeFinancialAccount/cac:FinancialInstitutionBranch/cbc:ID") == [
        "DABADKKK"
    ]
    assert one(root, "cac:PaymentTerms/cbc:Note") == (
        f"Netto 30 dage, forfald 2027-02-14. Angiv venligst betalingsreference {invoice.payment_reference}."
    )

    assert one(root, "cac:TaxTotal/cbc:TaxAmount") == "2000.00"
    assert attribute(root, "cac:TaxTotal/cbc:TaxAmount", "currencyID") == "DKK"
    assert texts(root, "cac:TaxTotal/cac:TaxSubtotal/*[self::cbc:TaxableAmount or self::cbc:TaxAmount]") == [
        "8000.00",
        "2000.00",
    ]
    assert texts(root, "cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory/cbc:*[not(self::cbc:TaxScheme)]") == [
        "S",
        "25.00",
    ]
    assert texts(root, "cac:LegalMonetaryTotal/cbc:*") == ["8000.00", "8000.00", "10000.00", "10000.00"]

    (line,) = root.xpath("cac:InvoiceLine", namespaces=NS)
    assert one(line, "cbc:InvoicedQuantity") == "1.00"
    assert one(line, "cbc:LineExtensionAmount") == "8000.00"
    assert texts(line, "cac:InvoicePeriod/cbc:*") == ["2027-01-01", "2027-12-31"]
    assert one(line, "cac:Item/cbc:Name") == "Membership 2027, 10-49 employees"
    assert texts(line, "cac:Item/cac:ClassifiedTaxCategory/cbc:*") == ["S", "25.00"]
    assert one(line, "cac:Price/cbc:PriceAmount") == "8000.00"


def test_an_exempt_invoice_names_the_reason():
    invoice = issued(buyer=replace(REGION, language="en"), lines=exempt_lines(), origin="course:1")
    xml = invoice_ubl(invoice=invoice)
    assert ubl_validate(xml, warnings=True) == []
    root = parsed(xml)
    category = "cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory"
    assert texts(root, f"{category}/cbc:ID|{category}/cbc:Percent|{category}/cbc:TaxExemptionReason") == [
        "E",
        "0.00",
        "Exempt from VAT",
    ]
    assert texts(root, "cac:TaxTotal/cbc:TaxAmount|cac:TaxTotal/cac:TaxSubtotal/cbc:TaxAmount") == ["0.00", "0.00"]
    assert texts(root, "cac:LegalMonetaryTotal/cbc:*") == ["1200.00", "1200.00", "1200.00", "1200.00"]
    assert texts(root, "cac:InvoiceLine/cac:Item/cac:ClassifiedTaxCategory/cbc:*") == ["E", "0.00"]


def test_a_credit_note_refers_to_the_invoice_it_credits():
    invoice = issued(origin="membership:1:2027-01-01")
    note = credited(invoice)
    xml = invoice_ubl(invoice=note)
    assert ubl_validate(xml, warnings=True) == []
    root = parsed(xml)
    assert root.tag == "{urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2}CreditNote"
    assert (one(root, "cbc:ID"), one(root, "cbc:CreditNoteTypeCode"), one(root, "cbc:Note")) == (
        "K2027-00001",
        "381",
        "Wrong size band",
    )
    assert root.xpath("cbc:DueDate|cac:PaymentMeans", namespaces=NS) == []
    assert texts(root, "cac:BillingReference/cac:InvoiceDocumentReference/cbc:*") == ["F2027-00001", "2027-01-15"]
    assert one(root, "cac:PaymentTerms/cbc:Note") == (
        "Krediterer faktura F2027-00001: beløbet modregnes eller betales tilbage."
    )
    assert texts(root, "cac:LegalMonetaryTotal/cbc:PayableAmount") == ["10000.00"]
    assert texts(root, "cac:CreditNoteLine/cbc:CreditedQuantity") == ["1.00"]
    assert texts(root, "cac:InvoiceLine") == []


def test_several_lines_with_two_vat_categories():
    invoice = issued(buyer=COMPANY, lines=several_lines(), origin="misc:1")
    xml = invoice_ubl(invoice=invoice)
    assert ubl_validate(xml, warnings=True) == []
    root = parsed(xml)
    assert texts(root, "cac:InvoiceLine/cbc:ID") == ["1", "2", "3", "4"]
    assert texts(root, "cac:InvoiceLine/cbc:LineExtensionAmount") == ["8000.00", "999.99", "0.30", "500.00"]
    assert texts(root, "cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory/cbc:ID") == ["E", "S"]
    assert texts(root, "cac:TaxTotal/cac:TaxSubtotal/cbc:TaxableAmount") == ["500.00", "9000.29"]
    assert texts(root, "cac:TaxTotal/cac:TaxSubtotal/cbc:TaxAmount") == ["0.00", "2250.07"]
    assert texts(root, "cac:LegalMonetaryTotal/cbc:*") == ["9500.29", "9500.29", "11750.36", "11750.36"]
    # No EAN: the buyer is addressed by its CVR number, and with no reference by its contact's absence, by name.
    buyer = "cac:AccountingCustomerParty/cac:Party"
    assert (one(root, f"{buyer}/cbc:EndpointID"), attribute(root, f"{buyer}/cbc:EndpointID", "schemeID")) == (
        "25313763",
        "0184",
    )
    assert one(root, "cbc:BuyerReference") == "Nordlys Medico ApS"
    assert root.xpath("cac:OrderReference", namespaces=NS) == []


def test_an_event_registration_line():
    invoice = issued(
        buyer=replace(REGION, reference=""), lines=event_lines(), origin="registration:77", category="event"
    )
    xml = invoice_ubl(invoice=invoice)
    assert ubl_validate(xml, warnings=True) == []
    root = parsed(xml)
    assert one(root, "cac:InvoiceLine/cac:Item/cbc:Name") == (
        "Registration: Meet & Match Medtech 2027, 14 April 2027 (Anne Jensen)"
    )
    assert texts(root, "cac:InvoiceLine/cac:InvoicePeriod/cbc:*") == ["2027-04-14", "2027-04-14"]
    assert one(root, "cbc:BuyerReference") == "Mette Holm"
    assert texts(root, "cac:LegalMonetaryTotal/cbc:PayableAmount") == ["1812.50"]


def test_the_buyer_reference_falls_back_to_the_order_number():
    buyer = replace(REGION, reference="", contact_name="")
    xml = invoice_ubl(invoice=issued(buyer=buyer, origin="x:1"))
    assert ubl_validate(xml, warnings=True) == []
    root = parsed(xml)
    assert one(root, "cbc:BuyerReference") == "PO-2027-118"


def test_a_draft_has_no_ubl():
    draft = invoice_draft_create(buyer=REGION, lines=[Line(description="x", unit_price=Decimal("1"))])
    with pytest.raises(BillingError) as error:
        invoice_ubl(invoice=draft)
    assert str(error.value) == "En kladde har ingen elektronisk faktura: udsted den først."


def test_a_buyer_without_ean_or_cvr_cannot_be_addressed():
    guest = replace(COMPANY, cvr="", name="Anne Jensen")
    invoice = issued(buyer=guest, lines=event_lines(), origin="registration:78")
    with pytest.raises(BillingError) as error:
        invoice_ubl(invoice=invoice)
    assert str(error.value) == (
        "F2027-00001 kan ikke sendes elektronisk: køberen har hverken et EAN- eller et CVR-nummer."
    )
