"""Checks a Peppol BIS Billing 3.0 UBL invoice or credit note offline against the official artefacts in ubl_schemas/.

The checks run in the order the Peppol validators run them: the OASIS UBL 2.1 schema (lxml), then the CEN EN 16931
schematron (the BR-* and BR-CO-* rules), then the Peppol BIS 3.0 schematron (PEPPOL-EN16931-R*, the country rules).
The schematrons are XSLT 2.0 rule files: SchXslt2 turns each into a validation stylesheet and SaxonC-HE (saxonche)
runs it. Both are compiled once per process, on first use (about two seconds), then a document takes milliseconds.

saxonche is a development dependency (requirements-dev.txt): tests and tools call this module, the web image does not.
"""

import functools
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

ARTEFACTS = Path(__file__).resolve().parent / "ubl_schemas"
XSD_DIR = ARTEFACTS / "ubl-2.1" / "xsd" / "maindoc"
SCHEMATRONS = (
    ARTEFACTS / "schematron" / "CEN-EN16931-UBL.sch",
    ARTEFACTS / "schematron" / "PEPPOL-EN16931-UBL.sch",
)
TRANSPILER = ARTEFACTS / "schxslt2" / "transpile.xsl"

INVOICE_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
CREDIT_NOTE_NS = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
SCHEMA_BY_ROOT = {
    f"{{{INVOICE_NS}}}Invoice": "UBL-Invoice-2.1.xsd",
    f"{{{CREDIT_NOTE_NS}}}CreditNote": "UBL-CreditNote-2.1.xsd",
}
# Namespace URIs shortened to their usual UBL prefixes in messages and locations; the document's own namespace
# (Invoice-2 or CreditNote-2) is left bare, as in /Invoice/cac:InvoiceLine[2].
PREFIXES = {
    INVOICE_NS: "",
    CREDIT_NOTE_NS: "",
    "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2": "cac:",
    "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2": "cbc:",
    "urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2": "ext:",
}
SVRL_NS = "http://purl.oclc.org/dsdl/svrl"
SCHXSLT_NS = "http://dmaus.name/ns/2023/schxslt"
# Flags the EN 16931 and Peppol rule files use: "fatal" rejects a document, "warning" does not. A finding without a
# flag counts as an error, so that an unknown rule never passes silently.
WARNING_FLAGS = frozenset({"warning", "information"})


@dataclass(frozen=True)
class UblFindings:
    """What the checks found: errors make a document invalid, warnings do not."""

    errors: list[str]
    warnings: list[str]


def ubl_validate(xml: bytes, *, warnings: bool = False) -> list[str]:
    """The errors in a UBL invoice or credit note (empty: valid), each as '[RULE-ID] text (at /path)'.

    With warnings=True the warnings follow the errors, marked '(warning)' after the rule id.
    """
    findings = ubl_findings(xml)
    return findings.errors + (findings.warnings if warnings else [])


def ubl_findings(xml: bytes) -> UblFindings:
    """Errors and warnings apart. Schematron rules assume a schema-valid document, so they run only after the XSD."""
    try:
        tree = etree.fromstring(xml, parser=_xml_parser()).getroottree()
    except etree.XMLSyntaxError as error:
        return UblFindings(errors=[f"[XML] {error}"], warnings=[])
    if tree.docinfo.doctype:
        return UblFindings(errors=["[XML] a UBL document has no DOCTYPE declaration"], warnings=[])
    root_tag = tree.getroot().tag
    if root_tag not in SCHEMA_BY_ROOT:
        return UblFindings(
            errors=[f"[XSD] root element {_readable(root_tag)} is not a UBL 2.1 Invoice or CreditNote"], warnings=[]
        )
    schema = _xml_schema(SCHEMA_BY_ROOT[root_tag])
    if not schema.validate(tree):
        return UblFindings(
            errors=[f"[XSD] line {entry.line}: {_readable(entry.message)}" for entry in schema.error_log], warnings=[]
        )
    return _schematron_findings(etree.tostring(tree, encoding="unicode"))


def _xml_parser() -> etree.XMLParser:
    # Documents may come from outside: no entity expansion, no DTD, no network, no billion laughs.
    return etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True, huge_tree=False)


@functools.cache
def _xml_schema(filename: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD_DIR / filename), parser=_xml_parser()))


_saxon_lock = threading.Lock()


@functools.cache
def _saxon():
    """The SaxonC processor and the compiled validation stylesheets, one set per process."""
    from saxonche import PySaxonProcessor

    processor = PySaxonProcessor(license=False)
    compiler = processor.new_xslt30_processor()
    # Only failed asserts and successful reports in the SVRL: no fired-rule or active-pattern noise to wade through.
    compiler.set_parameter(f"{{{SCHXSLT_NS}}}compact-report", processor.make_boolean_value(True))
    transpiler = compiler.compile_stylesheet(stylesheet_file=str(TRANSPILER))
    stylesheets = tuple(
        processor.new_xslt30_processor().compile_stylesheet(
            stylesheet_text=transpiler.transform_to_string(source_file=str(path))
        )
        for path in SCHEMATRONS
    )
    return processor, stylesheets


def _schematron_findings(document: str) -> UblFindings:
    from saxonche import PySaxonApiError

    errors: list[str] = []
    warnings: list[str] = []
    with _saxon_lock:
        processor, stylesheets = _saxon()
        node = processor.parse_xml(xml_text=document)
        for path, stylesheet in zip(SCHEMATRONS, stylesheets, strict=True):
            try:
                report = stylesheet.transform_to_string(xdm_node=node)
            except PySaxonApiError as error:
                errors.append(f"[SCHEMATRON] {path.name} stopped on a dynamic error: {error}")
                continue
            for rule_id, flag, message in _svrl_findings(report):
                if flag in WARNING_FLAGS:
                    warnings.append(f"[{rule_id}] ({flag}) {message}")
                else:
                    errors.append(f"[{rule_id}] {message}")
    return UblFindings(errors=errors, warnings=warnings)


def _svrl_findings(report: str) -> list[tuple[str, str, str]]:
    svrl = etree.fromstring(report.encode(), parser=_xml_parser())
    findings = []
    for element in svrl.iter(f"{{{SVRL_NS}}}failed-assert", f"{{{SVRL_NS}}}successful-report"):
        rule_id = element.get("id") or "SCHEMATRON"
        text = " ".join((element.findtext(f"{{{SVRL_NS}}}text") or "").split())
        # The CEN rule texts repeat their id ("[BR-CO-15]-Invoice total ..."); the Peppol ones do not.
        text = re.sub(rf"^\[{re.escape(rule_id)}\]\s*-?\s*", "", text)
        findings.append((rule_id, element.get("flag") or "", f"{text} (at {_location(element.get('location', ''))})"))
    return findings


def _location(path: str) -> str:
    """fn:path() output, '/Q{urn:...Invoice-2}Invoice[1]/Q{urn:...}InvoiceLine[2]', as '/Invoice/cac:InvoiceLine[2]'."""
    path = re.sub(r"Q\{([^}]*)\}", lambda match: PREFIXES.get(match.group(1), match.group(0)), path)
    return re.sub(r"^/(Invoice|CreditNote)\[1\]", r"/\1", path)


def _readable(text: str) -> str:
    """lxml's '{urn:...CommonBasicComponents-2}IssueDate' as 'cbc:IssueDate'."""
    return re.sub(r"\{([^}]*)\}", lambda match: PREFIXES.get(match.group(1), match.group(0)), text)
