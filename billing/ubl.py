"""The Peppol BIS Billing 3.0 document (UBL 2.1) of an issued invoice or credit note, as NemHandel carries it.

Every value comes from the issued document itself (amounts from its stored Decimals, the buyer from its snapshot),
so the XML says what the PDF says. Elements follow the UBL 2.1 schema's order; no element is ever empty
(PEPPOL-EN16931-R008), so optional values are left out rather than written blank."""

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from lxml import etree

from billing.models import Invoice, VatCategory
from billing.services import BillingError
from billing.totals import totals_compute

CUSTOMIZATION_ID = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
PROFILE_ID = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
INVOICE_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
CREDIT_NOTE_NS = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"

# Peppol electronic address schemes (EAS) and the ICD for the Danish CVR number. BIS 3 accepts a 0184 value as the
# eight CVR digits (PEPPOL-COMMON-R042), which is how NemHandel registers Danish participants.
SCHEME_GLN = "0088"
SCHEME_CVR = "0184"
# UNCL 4461 31, a credit transfer to the IBAN at the BIC. DK-R-006 wants both an account and a branch, and UBL-SR-47
# allows several payment means only with one code, so the Danish registration and account numbers (code 42) stay on
# the PDF.
PAYMENT_MEANS_CREDIT_TRANSFER = "31"
UNIT_ONE = "C62"


def _cbc(parent, name: str, value, **attributes) -> None:
    """A basic element, left out when its value is empty."""
    if value is None or value == "":
        return
    element = etree.SubElement(parent, f"{{{CBC}}}{name}", {k: v for k, v in attributes.items() if v})
    element.text = str(value)


def _cac(parent, name: str):
    return etree.SubElement(parent, f"{{{CAC}}}{name}")


def _amount(value: Decimal) -> str:
    """Two decimals from the stored Decimal (BR-DEC-*); Decimal formatting never passes through a float."""
    return f"{Decimal(value):.2f}"


def _money(parent, name: str, value: Decimal, currency: str) -> None:
    _cbc(parent, name, _amount(value), currencyID=currency)


def _address(party, *, street: str, city: str, postcode: str, country: str) -> None:
    address = _cac(party, "PostalAddress")
    _cbc(address, "StreetName", street)
    _cbc(address, "CityName", city)
    _cbc(address, "PostalZone", postcode)
    _cbc(_cac(address, "Country"), "IdentificationCode", country or "DK")


def _tax_scheme(party, *, vat_id: str) -> None:
    if not vat_id:
        return
    scheme = _cac(party, "PartyTaxScheme")
    _cbc(scheme, "CompanyID", vat_id)
    _cbc(_cac(scheme, "TaxScheme"), "ID", "VAT")


def _legal_entity(party, *, name: str, cvr: str) -> None:
    entity = _cac(party, "PartyLegalEntity")
    _cbc(entity, "RegistrationName", name)
    _cbc(entity, "CompanyID", cvr, schemeID=SCHEME_CVR if cvr else "")


def _contact(party, *, name: str = "", phone: str = "", email: str = "") -> None:
    if not (name or phone or email):
        return
    contact = _cac(party, "Contact")
    _cbc(contact, "Name", name)
    _cbc(contact, "Telephone", phone)
    _cbc(contact, "ElectronicMail", email)


def _danish_vat_id(cvr: str) -> str:
    return f"DK{cvr}" if cvr else ""


def buyer_endpoint(invoice: Invoice) -> tuple[str, str] | None:
    """Where NemHandel delivers the document: the buyer's EAN (GLN) when it has one, else its CVR number."""
    if invoice.buyer_ean:
        return SCHEME_GLN, invoice.buyer_ean
    if invoice.buyer_cvr:
        return SCHEME_CVR, invoice.buyer_cvr
    return None


def buyer_reference(invoice: Invoice) -> str:
    """BT-10. Danish public buyers route an invoice internally by it and refuse one without; when the buyer gave
    none, the person to attend to it or the order number serves, and last the buyer's name."""
    return invoice.buyer_reference or invoice.buyer_contact_name or invoice.order_reference or invoice.buyer_name


def _supplier(root) -> None:
    seller = settings.BILLING_SELLER
    party = _cac(_cac(root, "AccountingSupplierParty"), "Party")
    _cbc(party, "EndpointID", seller["cvr"], schemeID=SCHEME_CVR)
    _cbc(_cac(party, "PartyName"), "Name", seller["legal_name"])
    _address(
        party, street=seller["address"], city=seller["city"], postcode=seller["postcode"], country=seller["country"]
    )
    _tax_scheme(party, vat_id=_danish_vat_id(seller["cvr"]))
    _legal_entity(party, name=seller["legal_name"], cvr=seller["cvr"])
    _contact(party, name=seller["legal_name"], phone=seller["phone"], email=seller["email"])


def _customer(root, invoice: Invoice) -> None:
    scheme, endpoint = buyer_endpoint(invoice)
    party = _cac(_cac(root, "AccountingCustomerParty"), "Party")
    _cbc(party, "EndpointID", endpoint, schemeID=scheme)
    if invoice.buyer_ean:
        _cbc(_cac(party, "PartyIdentification"), "ID", invoice.buyer_ean, schemeID=SCHEME_GLN)
    _cbc(_cac(party, "PartyName"), "Name", invoice.buyer_name)
    _address(
        party,
        street=invoice.buyer_address,
        city=invoice.buyer_city,
        postcode=invoice.buyer_postcode,
        country=invoice.buyer_country,
    )
    _tax_scheme(party, vat_id=invoice.buyer_vat_number or _danish_vat_id(invoice.buyer_cvr))
    _legal_entity(party, name=invoice.buyer_name, cvr=invoice.buyer_cvr)
    _contact(party, name=invoice.buyer_contact_name, email=invoice.buyer_email)


def _payment(root, invoice: Invoice) -> None:
    """How to pay an invoice: by bank transfer quoting the payment reference. A credit note is paid back by us,
    so it names no account of ours; its terms say what happens to the amount."""
    seller = settings.BILLING_SELLER
    if not invoice.is_credit_note:
        means = _cac(root, "PaymentMeans")
        _cbc(means, "PaymentMeansCode", PAYMENT_MEANS_CREDIT_TRANSFER)
        _cbc(means, "PaymentID", invoice.payment_reference)
        account = _cac(means, "PayeeFinancialAccount")
        _cbc(account, "ID", seller["iban"].replace(" ", ""))
        _cbc(account, "Name", seller["legal_name"])
        _cbc(_cac(account, "FinancialInstitutionBranch"), "ID", seller["bic"])
    terms = _cac(root, "PaymentTerms")
    if invoice.is_credit_note:
        note = gettext("Credits invoice %(number)s: the amount is set off against it or paid back.") % {
            "number": invoice.credited_invoice.number
        }
    else:
        note = gettext("Net %(days)s days, due %(due)s. Please quote payment reference %(reference)s.") % {
            "days": invoice.payment_terms_days,
            "due": invoice.due_date.isoformat(),
            "reference": invoice.payment_reference,
        }
    _cbc(terms, "Note", note)


def _tax_category(parent, name: str, *, category: str, rate: Decimal, with_reason: bool) -> None:
    element = _cac(parent, name)
    _cbc(element, "ID", category)
    _cbc(element, "Percent", _amount(rate))
    if with_reason and category == VatCategory.EXEMPT:
        # BR-E-10: an exempt breakdown names why, by a VATEX code or a text; the text is the one we can vouch for.
        _cbc(element, "TaxExemptionReason", gettext("Exempt from VAT"))
    _cbc(_cac(element, "TaxScheme"), "ID", "VAT")


def _tax_total(root, invoice: Invoice, lines) -> None:
    currency = invoice.currency
    total = _cac(root, "TaxTotal")
    _money(total, "TaxAmount", invoice.vat_total, currency)
    for row in totals_compute(lines).breakdown:
        subtotal = _cac(total, "TaxSubtotal")
        _money(subtotal, "TaxableAmount", row.taxable, currency)
        _money(subtotal, "TaxAmount", row.vat, currency)
        _tax_category(subtotal, "TaxCategory", category=row.category, rate=row.rate, with_reason=True)


def _monetary_total(root, invoice: Invoice) -> None:
    currency = invoice.currency
    total = _cac(root, "LegalMonetaryTotal")
    _money(total, "LineExtensionAmount", invoice.net_total, currency)
    _money(total, "TaxExclusiveAmount", invoice.net_total, currency)
    _money(total, "TaxInclusiveAmount", invoice.gross_total, currency)
    _money(total, "PayableAmount", invoice.gross_total, currency)


def _line(root, invoice: Invoice, line) -> None:
    credit = invoice.is_credit_note
    element = _cac(root, "CreditNoteLine" if credit else "InvoiceLine")
    _cbc(element, "ID", line.position)
    _cbc(element, "CreditedQuantity" if credit else "InvoicedQuantity", f"{line.quantity}", unitCode=UNIT_ONE)
    _money(element, "LineExtensionAmount", line.net_amount, invoice.currency)
    if line.period_start or line.period_end:
        period = _cac(element, "InvoicePeriod")
        _cbc(period, "StartDate", line.period_start.isoformat() if line.period_start else "")
        _cbc(period, "EndDate", line.period_end.isoformat() if line.period_end else "")
    item = _cac(element, "Item")
    _cbc(item, "Name", line.description)
    _tax_category(item, "ClassifiedTaxCategory", category=line.vat_category, rate=line.vat_rate, with_reason=False)
    _money(_cac(element, "Price"), "PriceAmount", line.unit_price, invoice.currency)


def invoice_ubl(*, invoice: Invoice) -> bytes:
    """The Peppol BIS Billing 3.0 Invoice (or CreditNote) of an issued document, as UTF-8 XML bytes."""
    if invoice.is_draft:
        raise BillingError(_("A draft has no electronic invoice: issue it first."))
    if buyer_endpoint(invoice) is None:
        raise BillingError(
            _("%(number)s cannot be sent electronically: the buyer has neither an EAN nor a CVR number.")
            % {"number": invoice.number}
        )
    lines = list(invoice.lines.all())
    credit = invoice.is_credit_note
    namespace = CREDIT_NOTE_NS if credit else INVOICE_NS
    root = etree.Element(
        f"{{{namespace}}}{'CreditNote' if credit else 'Invoice'}", nsmap={None: namespace, "cac": CAC, "cbc": CBC}
    )
    with translation.override(invoice.language):
        _cbc(root, "CustomizationID", CUSTOMIZATION_ID)
        _cbc(root, "ProfileID", PROFILE_ID)
        _cbc(root, "ID", invoice.number)
        _cbc(root, "IssueDate", invoice.issue_date.isoformat())
        if not credit:
            _cbc(root, "DueDate", invoice.due_date.isoformat())
        _cbc(root, "CreditNoteTypeCode" if credit else "InvoiceTypeCode", "381" if credit else "380")
        _cbc(root, "Note", invoice.credit_reason)
        _cbc(root, "DocumentCurrencyCode", invoice.currency)
        _cbc(root, "BuyerReference", buyer_reference(invoice))
        if invoice.order_reference:
            _cbc(_cac(root, "OrderReference"), "ID", invoice.order_reference)
        if credit:
            credited = invoice.credited_invoice
            reference = _cac(_cac(root, "BillingReference"), "InvoiceDocumentReference")
            _cbc(reference, "ID", credited.number)
            _cbc(reference, "IssueDate", credited.issue_date.isoformat())
        _supplier(root)
        _customer(root, invoice)
        _payment(root, invoice)
        _tax_total(root, invoice, lines)
        _monetary_total(root, invoice)
        for line in lines:
            _line(root, invoice, line)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


@dataclass(frozen=True)
class UblExport:
    written: list[Path]
    skipped: list[str]  # numbers of documents no Peppol address reaches (no EAN, no CVR)


def _issued_documents():
    return (
        Invoice.objects.exclude(status=Invoice.Status.DRAFT)
        .select_related("credited_invoice")
        .prefetch_related("lines")
        .order_by("series", "year", "sequence")
    )


def invoice_ubl_write(*, out_dir: Path, numbers: list[str] = (), everything: bool = False) -> UblExport:
    """Write `<number>.xml` into `out_dir` for the named issued documents, or with no numbers for every issued one
    whose buyer has an EAN (`everything`: every issued one a Peppol address reaches). A number that is unknown, a
    draft or unaddressable fails the whole call before any file is written; each file is written whole (a
    temporary file renamed into place)."""
    if numbers and everything:
        raise BillingError(_("Give document numbers or --all, not both."))
    documents = _issued_documents()
    skipped: list[str] = []
    if numbers:
        wanted = list(dict.fromkeys(numbers))
        found = {document.number: document for document in documents.filter(number__in=wanted)}
        unknown = [number for number in wanted if number not in found]
        if unknown:
            raise BillingError(
                ngettext(
                    "No issued invoice or credit note has the number %(numbers)s.",
                    "No issued invoices or credit notes have the numbers %(numbers)s.",
                    len(unknown),
                )
                % {"numbers": ", ".join(unknown)}
            )
        documents = [found[number] for number in wanted]
    elif not everything:
        documents = list(documents.exclude(buyer_ean=""))
    else:
        documents = list(documents)
        skipped = [document.number for document in documents if buyer_endpoint(document) is None]
        documents = [document for document in documents if buyer_endpoint(document) is not None]
    rendered = [(document.number, invoice_ubl(invoice=document)) for document in documents]
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for number, content in rendered:
        target = out_dir / f"{number}.xml"
        partial = target.with_name(f".{target.name}.partial")
        partial.write_bytes(content)
        partial.replace(target)
        written.append(target)
    return UblExport(written=written, skipped=skipped)
