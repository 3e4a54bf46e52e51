"""`manage.py invoice_ubl`: which documents it writes, what the files hold, and that a bad number writes nothing."""

from dataclasses import replace

import pytest
from django.core.management import CommandError, call_command

from billing.services import invoice_draft_create
from billing.ubl import invoice_ubl
from billing.ubl_validation import ubl_validate
from tests.support.billing import COMPANY, REGION, credited, event_lines, issued, membership_lines

pytestmark = pytest.mark.django_db


@pytest.fixture
def documents():
    """F2027-00001 to a region (EAN), F2027-00002 to a company (CVR only), F2027-00003 to a guest (neither),
    K2027-00001 crediting the region's invoice, and a draft."""
    region = issued(origin="membership:1:2027")
    company = issued(buyer=COMPANY, origin="membership:2:2027")
    guest = issued(buyer=replace(COMPANY, name="Anne Jensen", cvr=""), lines=event_lines(), origin="registration:9")
    note = credited(region)
    invoice_draft_create(buyer=REGION, lines=membership_lines())
    return {"region": region, "company": company, "guest": guest, "note": note}


def run(*args) -> tuple[str, str]:
    from io import StringIO

    out, err = StringIO(), StringIO()
    call_command("invoice_ubl", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def names(folder) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


def test_named_documents_are_written_with_their_ubl(documents, tmp_path):
    out, _ = run("--out", str(tmp_path / "ubl"), "F2027-00002", "K2027-00001")
    assert names(tmp_path / "ubl") == ["F2027-00002.xml", "K2027-00001.xml"]
    assert (tmp_path / "ubl" / "F2027-00002.xml").read_bytes() == invoice_ubl(invoice=documents["company"])
    assert (tmp_path / "ubl" / "K2027-00001.xml").read_bytes() == invoice_ubl(invoice=documents["note"])
    assert out == f"Skrev 2 filer til {tmp_path / 'ubl'}.\n"


def test_without_numbers_every_issued_document_to_an_ean_buyer(documents, tmp_path):
    run("--out", str(tmp_path))
    assert names(tmp_path) == ["F2027-00001.xml", "K2027-00001.xml"]
    assert b"<cbc:ID>F2027-00001</cbc:ID>" in (tmp_path / "K2027-00001.xml").read_bytes()


def test_all_writes_every_issued_document_a_peppol_address_reaches(documents, tmp_path):
    out, err = run("--all", "--out", str(tmp_path))
    assert names(tmp_path) == ["F2027-00001.xml", "F2027-00002.xml", "K2027-00001.xml"]
    assert err == "F2027-00003 sprunget over: køberen har hverken et EAN- eller et CVR-nummer.\n"
    assert out == f"Skrev 3 filer til {tmp_path}.\n"
    assert [ubl_validate(path.read_bytes(), warnings=True) for path in sorted(tmp_path.iterdir())] == [[], [], []]


def test_an_unknown_number_fails_and_writes_nothing(documents, tmp_path):
    with pytest.raises(CommandError) as error:
        run("--out", str(tmp_path / "ubl"), "F2027-00001", "F2027-00099", "F2026-00001")
    assert str(error.value) == "Ingen udstedte fakturaer eller kreditnotaer har numrene F2027-00099, F2026-00001."
    assert not (tmp_path / "ubl").exists()


def test_a_named_guest_document_fails_and_writes_nothing(documents, tmp_path):
    with pytest.raises(CommandError) as error:
        run("--out", str(tmp_path), "F2027-00001", "F2027-00003")
    assert str(error.value) == (
        "F2027-00003 kan ikke sendes elektronisk: køberen har hverken et EAN- eller et CVR-nummer."
    )
    assert names(tmp_path) == []


def test_numbers_and_all_together_are_refused(documents, tmp_path):
    with pytest.raises(CommandError) as error:
        run("--all", "--out", str(tmp_path), "F2027-00001")
    assert str(error.value) == "Angiv enten bilagsnumre eller --all, ikke begge."
    assert names(tmp_path) == []


def test_the_command_exits_non_zero_on_a_bad_number(documents, tmp_path):
    from django.core.management import ManagementUtility

    with pytest.raises(SystemExit) as exit_info:
        ManagementUtility(["manage.py", "invoice_ubl", "--out", str(tmp_path), "F2027-00099"]).execute()
    assert exit_info.value.code == 1
    assert names(tmp_path) == []
