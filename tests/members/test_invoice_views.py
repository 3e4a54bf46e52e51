"""A company admin's invoices in the portal: only their organisation's issued documents, each state, the PDF and UBL
downloads, and 404 for everyone and everything else."""

import re
from dataclasses import replace
from datetime import date
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billing.models import Invoice
from billing.services import invoice_draft_create
from billing.ubl_validation import ubl_validate
from members import invoice_views
from tests.factories import OrganisationRoleFactory, UserFactory
from tests.support.billing import COMPANY, REGION, credited, issued, membership_lines

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def billed(org_admin):
    """For the admin's organisation: a paid invoice, an overdue one, an open one, one credited by a credit note,
    and a draft; one more invoice belongs to another organisation."""
    organisation, admin = org_admin
    buyer = replace(REGION, customer_key=f"organisation:{organisation.pk}")
    paid = issued(buyer=buyer, origin="m:1", on=date(2027, 1, 5))
    Invoice.objects.filter(pk=paid.pk).update(status=Invoice.Status.PAID, paid_total=paid.gross_total)
    overdue = issued(buyer=buyer, origin="m:2", on=date(2027, 1, 10))
    open_ = issued(buyer=buyer, origin="m:3", on=date(2027, 3, 1))
    note = credited(issued(buyer=buyer, origin="m:4", on=date(2027, 2, 1)), on=date(2027, 2, 3))
    invoice_draft_create(buyer=buyer, lines=membership_lines())
    foreign = issued(buyer=replace(COMPANY, customer_key="organisation:999999"), origin="m:5", on=date(2027, 1, 20))
    return {
        "organisation": organisation,
        "admin": admin,
        "paid": paid,
        "overdue": overdue,
        "open": open_,
        "note": note,
        "foreign": foreign,
    }


def rows(html: str) -> list[list[str]]:
    body = html.split("<tbody>")[1].split("</tbody>")[0]
    return [
        [
            re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", cell)).strip()
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def test_the_list_shows_the_organisations_issued_documents_and_their_state(client, billed, monkeypatch):
    # The page's today, and only the page's: the documents were issued on fixed dates in 2027.
    monkeypatch.setattr(invoice_views, "timezone", SimpleNamespace(localdate=lambda: date(2027, 3, 1)))
    client.force_login(billed["admin"])
    response = client.get(reverse("members:invoices", args=[billed["organisation"].pk]))
    assert response.status_code == 200
    pk = billed["organisation"].pk
    xml = "E-faktura (XML)"
    assert rows(response.content.decode()) == [
        ["F2027-00003", "01.03.2027", "31.03.2027", "10.000,00 DKK", "Åben", f"PDF F2027-00003 · {xml} F2027-00003"],
        [
            "K2027-00001",
            "03.02.2027",
            "–",
            "10.000,00 DKK",
            "Kreditnota krediterer F2027-00004",
            f"PDF K2027-00001 · {xml} K2027-00001",
        ],
        [
            "F2027-00004",
            "01.02.2027",
            "03.03.2027",
            "10.000,00 DKK",
            "Krediteret",
            f"PDF F2027-00004 · {xml} F2027-00004",
        ],
        [
            "F2027-00002",
            "10.01.2027",
            "09.02.2027",
            "10.000,00 DKK",
            "Forfalden",
            f"PDF F2027-00002 · {xml} F2027-00002",
        ],
        ["F2027-00001", "05.01.2027", "04.02.2027", "10.000,00 DKK", "Betalt", f"PDF F2027-00001 · {xml} F2027-00001"],
    ]
    assert f'href="/da/members/manage/{pk}/invoices/F2027-00003.pdf"' in response.content.decode()
    assert "F2027-00005" not in response.content.decode()  # the other organisation's


def test_the_manage_page_links_to_the_invoices(client, org_admin):
    organisation, admin = org_admin
    client.force_login(admin)
    response = client.get(reverse("members:manage", args=[organisation.pk]))
    assert f'href="/da/members/manage/{organisation.pk}/invoices/"' in response.content.decode()


def test_the_list_is_empty_without_invoices(client, org_admin):
    organisation, admin = org_admin
    client.force_login(admin)
    response = client.get(reverse("members:invoices", args=[organisation.pk]))
    assert "Ingen fakturaer endnu." in response.content.decode()


def test_the_list_queries_do_not_grow_with_documents(client, org_admin):
    organisation, admin = org_admin
    client.force_login(admin)
    buyer = replace(COMPANY, customer_key=f"organisation:{organisation.pk}")
    url = reverse("members:invoices", args=[organisation.pk])
    credited(issued(buyer=buyer, origin="q:1"))
    with CaptureQueriesContext(connection) as two:
        client.get(url)
    for n in range(2, 5):
        credited(issued(buyer=buyer, origin=f"q:{n}"))
    with CaptureQueriesContext(connection) as eight:
        response = client.get(url)
    assert len(rows(response.content.decode())) == 8
    assert len(eight.captured_queries) == len(two.captured_queries)


def test_the_pdf_downloads_as_an_attachment_and_is_stored(client, billed):
    client.force_login(billed["admin"])
    response = client.get(reverse("members:invoice_pdf", args=[billed["organisation"].pk, "F2027-00002"]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="F2027-00002.pdf"'
    content = b"".join(response.streaming_content)
    assert content.startswith(b"%PDF-")
    billed["overdue"].refresh_from_db()
    assert billed["overdue"].pdf.name == "invoices/2027/F2027-00002.pdf"
    assert billed["overdue"].pdf.read() == content


def test_the_ubl_downloads_for_an_ean_customer(client, billed):
    client.force_login(billed["admin"])
    response = client.get(reverse("members:invoice_xml", args=[billed["organisation"].pk, "K2027-00001"]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="K2027-00001.xml"'
    assert ubl_validate(response.content, warnings=True) == []
    assert b"<cbc:ID>K2027-00001</cbc:ID>" in response.content


def test_no_ubl_for_a_customer_without_an_ean(client, org_admin):
    organisation, admin = org_admin
    issued(buyer=replace(COMPANY, customer_key=f"organisation:{organisation.pk}"), origin="n:1")
    client.force_login(admin)
    assert client.get(reverse("members:invoice_xml", args=[organisation.pk, "F2027-00001"])).status_code == 404
    assert client.get(reverse("members:invoice_pdf", args=[organisation.pk, "F2027-00001"])).status_code == 200
    response = client.get(reverse("members:invoices", args=[organisation.pk]))
    assert "E-faktura" not in response.content.decode()


@pytest.mark.parametrize("name", ["members:invoice_pdf", "members:invoice_xml"])
@pytest.mark.parametrize("number", ["F2027-00005", "F2027-00099", "nonsense", "None"])
def test_foreign_unknown_and_draft_numbers_are_404(client, billed, name, number):
    # F2027-00005 is the other organisation's; a draft has no number, so "None" is how one would try to reach it.
    client.force_login(billed["admin"])
    assert client.get(reverse(name, args=[billed["organisation"].pk, number])).status_code == 404


@pytest.mark.parametrize("name", ["members:invoices", "members:invoice_pdf", "members:invoice_xml"])
def test_only_the_organisations_admins_get_in(client, billed, name):
    organisation = billed["organisation"]
    args = [organisation.pk] if name == "members:invoices" else [organisation.pk, "F2027-00001"]
    url = reverse(name, args=args)
    assert client.get(url).status_code == 302  # to the login
    colleague = OrganisationRoleFactory(organisation=organisation, role="member").user
    billing_contact = OrganisationRoleFactory(organisation=organisation, role="billing").user
    other_admin = OrganisationRoleFactory(role="admin").user
    for user in [colleague, billing_contact, other_admin, UserFactory()]:
        client.force_login(user)
        assert client.get(url).status_code == 404
    client.force_login(other_admin)
    own = reverse(name, args=[999999, *args[1:]])
    assert client.get(own).status_code == 404


def test_the_pages_only_answer_reads(client, billed):
    client.force_login(billed["admin"])
    url = reverse("members:invoice_pdf", args=[billed["organisation"].pk, "F2027-00001"])
    assert client.post(url).status_code == 405
    assert client.head(url).status_code == 200
