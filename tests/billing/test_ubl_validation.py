"""The offline Peppol BIS 3.0 validator: official examples pass, broken copies fail with the official rule ids."""

import hashlib
import re
from pathlib import Path

import pytest
from lxml import etree

from billing.ubl_validation import ARTEFACTS, UblFindings, ubl_findings, ubl_validate

EXAMPLES = Path(__file__).resolve().parent / "ubl_examples"
PEPPOL_EXAMPLES = sorted(path.name for path in (EXAMPLES / "peppol").glob("*.xml"))
DANISH_INVOICE = "dk-region-invoice.xml"
NS = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}


def _example(name: str) -> bytes:
    return (EXAMPLES / name).read_bytes()


def _changed(name: str, change) -> bytes:
    """A copy of an example with one change made through lxml, so the rest stays byte for byte as published."""
    tree = etree.parse(str(EXAMPLES / name))
    change(tree)
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8")


def _one(tree, xpath: str):
    (element,) = tree.xpath(xpath, namespaces=NS)
    return element


def _set_text(xpath: str, text: str):
    def change(tree):
        _one(tree, xpath).text = text

    return change


def _remove(xpath: str):
    def change(tree):
        element = _one(tree, xpath)
        element.getparent().remove(element)

    return change


def _rule_ids(messages: list[str]) -> list[str]:
    return [re.match(r"\[([^\]]+)\]", message).group(1) for message in messages]


def test_the_examples_are_the_official_peppol_billing_3_0_20_set():
    assert PEPPOL_EXAMPLES == [
        "Allowance-example.xml",
        "Vat-category-S.xml",
        "base-creditnote-correction.xml",
        "base-example.xml",
        "base-negative-inv-correction.xml",
        "sales-order-example.xml",
        "vat-category-E.xml",
        "vat-category-O.xml",
        "vat-category-Z.xml",
    ]


@pytest.mark.parametrize("name", PEPPOL_EXAMPLES)
def test_official_peppol_example_has_no_errors_and_no_warnings(name):
    assert ubl_validate(_example(f"peppol/{name}"), warnings=True) == []


def test_danish_invoice_to_a_public_body_with_an_ean_has_no_errors_and_no_warnings():
    assert ubl_validate(_example(DANISH_INVOICE), warnings=True) == []


def test_changed_line_amount_breaks_the_sum_of_lines_the_vat_base_and_the_line_calculation():
    xml = _changed("peppol/base-example.xml", _set_text("/*/cac:InvoiceLine[1]/cbc:LineExtensionAmount", "2900"))

    errors = ubl_validate(xml)

    assert _rule_ids(errors) == ["BR-S-08", "BR-CO-10", "PEPPOL-EN16931-R120"]
    assert errors[1] == (
        "[BR-CO-10] Sum of Invoice line net amount (BT-106) = Σ Invoice line net amount (BT-131)."
        " (at /Invoice/cac:LegalMonetaryTotal[1])"
    )


def test_missing_buyer_endpoint_is_peppol_r010():
    xml = _changed("peppol/base-example.xml", _remove("/*/cac:AccountingCustomerParty/cac:Party/cbc:EndpointID"))

    assert ubl_validate(xml) == [
        "[PEPPOL-EN16931-R010] Buyer electronic address MUST be provided"
        " (at /Invoice/cac:AccountingCustomerParty[1]/cac:Party[1])"
    ]


def test_wrong_vat_total_breaks_br_co_15_and_br_co_14():
    xml = _changed("peppol/base-example.xml", _set_text("/*/cac:TaxTotal/cbc:TaxAmount", "331.00"))

    errors = ubl_validate(xml)

    assert _rule_ids(errors) == ["BR-CO-15", "BR-CO-14"]
    assert errors[0] == (
        "[BR-CO-15] Invoice total amount with VAT (BT-112) = Invoice total amount without VAT (BT-109)"
        " + Invoice total VAT amount (BT-110). (at /Invoice)"
    )


def test_wrong_total_with_vat_breaks_br_co_15_and_the_amount_due_br_co_16():
    xml = _changed("peppol/base-example.xml", _set_text("/*/cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount", "1656.00"))

    assert _rule_ids(ubl_validate(xml)) == ["BR-CO-15", "BR-CO-16"]


def test_wrong_vat_amount_in_a_danish_breakdown_breaks_the_standard_rate_rules():
    xml = _changed(DANISH_INVOICE, _set_text("/*/cac:TaxTotal/cac:TaxSubtotal[1]/cbc:TaxAmount", "2400.00"))

    assert _rule_ids(ubl_validate(xml)) == ["BR-CO-14", "BR-CO-17", "BR-S-09"]


def test_missing_mandatory_element_is_a_schema_error_and_the_rules_do_not_run():
    xml = _changed("peppol/base-example.xml", _remove("/*/cbc:IssueDate"))

    assert ubl_validate(xml) == [
        "[XSD] line 6: Element 'cbc:DueDate': This element is not expected."
        " Expected is one of ( cbc:CopyIndicator, cbc:UUID, cbc:IssueDate )."
    ]


def test_credit_note_without_business_process_is_peppol_r001_and_r007():
    xml = _changed("peppol/base-creditnote-correction.xml", _remove("/*/cbc:ProfileID"))

    assert _rule_ids(ubl_validate(xml)) == ["PEPPOL-EN16931-R001", "PEPPOL-EN16931-R007"]


def test_danish_supplier_may_not_ask_for_payment_means_30():
    xml = _changed(DANISH_INVOICE, _set_text("/*/cac:PaymentMeans/cbc:PaymentMeansCode", "30"))

    assert _rule_ids(ubl_validate(xml)) == ["DK-R-005"]


def test_ean_with_a_wrong_check_digit_is_peppol_common_r040():
    buyer_endpoint = "/*/cac:AccountingCustomerParty/cac:Party/cbc:EndpointID"
    xml = _changed(DANISH_INVOICE, _set_text(buyer_endpoint, "5798000000002"))

    assert ubl_validate(xml) == [
        "[PEPPOL-COMMON-R040] GLN must have a valid format according to GS1 rules."
        " (at /Invoice/cac:AccountingCustomerParty[1]/cac:Party[1]/cbc:EndpointID[1])"
    ]


def test_danish_supplier_cvr_without_scheme_0184_is_dk_r_014():
    def drop_scheme(tree):
        del _one(tree, "/*/cac:AccountingSupplierParty/cac:Party/cac:PartyLegalEntity/cbc:CompanyID").attrib["schemeID"]

    assert _rule_ids(ubl_validate(_changed(DANISH_INVOICE, drop_scheme))) == ["DK-R-014"]


def test_warnings_are_not_errors_and_come_back_when_asked_for():
    def old_ubl_version(tree):
        version = etree.Element(f"{{{NS['cbc']}}}UBLVersionID")
        version.text = "2.0"
        tree.getroot().insert(0, version)

    xml = _changed("peppol/base-example.xml", old_ubl_version)
    warning = (
        "[UBL-CR-002] (warning) A UBL invoice should not include the UBLVersionID or it should be 2.1 (at /Invoice)"
    )

    assert ubl_validate(xml) == []
    assert ubl_validate(xml, warnings=True) == [warning]
    assert ubl_findings(xml) == UblFindings(errors=[], warnings=[warning])


def test_errors_come_before_warnings():
    def old_version_and_no_buyer_endpoint(tree):
        version = etree.Element(f"{{{NS['cbc']}}}UBLVersionID")
        version.text = "2.0"
        tree.getroot().insert(0, version)
        _remove("/*/cac:AccountingCustomerParty/cac:Party/cbc:EndpointID")(tree)

    xml = _changed("peppol/base-example.xml", old_version_and_no_buyer_endpoint)

    assert _rule_ids(ubl_validate(xml, warnings=True)) == ["PEPPOL-EN16931-R010", "UBL-CR-002"]


def test_document_that_is_not_an_invoice_or_credit_note_is_refused():
    xml = b'<Order xmlns="urn:oasis:names:specification:ubl:schema:xsd:Order-2"/>'

    assert ubl_validate(xml) == [
        "[XSD] root element {urn:oasis:names:specification:ubl:schema:xsd:Order-2}Order"
        " is not a UBL 2.1 Invoice or CreditNote"
    ]


def test_malformed_xml_is_an_error_not_an_exception():
    assert ubl_validate(b"<Invoice>") == [
        "[XML] Premature end of data in tag Invoice line 1, line 1, column 10 (<string>, line 1)"
    ]


def test_document_with_a_doctype_is_refused_before_anything_is_expanded():
    xml = b'<?xml version="1.0"?><!DOCTYPE Invoice [<!ENTITY x "boom">]><Invoice>&x;</Invoice>'

    assert ubl_validate(xml) == ["[XML] a UBL document has no DOCTYPE declaration"]


def test_shipped_artefacts_are_byte_for_byte_the_ones_recorded_in_sha256sums():
    lines = (ARTEFACTS / "SHA256SUMS").read_text().splitlines()
    recorded = {path: digest for digest, path in (line.split("  ", 1) for line in lines)}
    shipped = {
        str(path.relative_to(ARTEFACTS)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(ARTEFACTS.rglob("*"))
        if path.is_file() and path.name not in {"README.md", "SHA256SUMS"}
    }

    assert shipped == recorded
