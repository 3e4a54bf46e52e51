"""Every CSV and XLSX export writes what a person typed as text, never as a formula a spreadsheet would run."""

import csv
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from common.exports import cell_escape
from newsletters.models import ConsentRecord
from tests.factories import (
    EventFactory,
    EventQuestionFactory,
    EventRegistrationFactory,
    OrganisationRoleFactory,
    SubscriberFactory,
    UserFactory,
    member_organisation_create,
)

pytestmark = pytest.mark.django_db

PREFIXES = ["=", "+", "-", "@", "\t", "\r"]


def _csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))


def _xlsx_rows(response) -> list[tuple]:
    return list(load_workbook(io.BytesIO(response.content)).active.values)


def _as_read(prefix: str, fmt: str) -> str:
    """XML has no bare carriage return: a workbook cell holds a line feed in its place."""
    return "\n" if (fmt, prefix) == ("xlsx", "\r") else prefix


def test_cell_escape_quotes_formula_prefixes_and_leaves_numbers_and_plain_text():
    assert [cell_escape(f"{prefix}1+2") for prefix in PREFIXES] == [
        "'=1+2",
        "'+1+2",
        "'-1+2",
        "'@1+2",
        "'\t1+2",
        "'\r1+2",
    ]
    assert [cell_escape(value) for value in ("Ada", None, -5, 2.5, True)] == ["Ada", "", -5, 2.5, True]


@pytest.mark.parametrize("prefix", PREFIXES)
def test_colleagues_export_escapes(client, prefix):
    organisation = member_organisation_create(name="Nordlys ApS", slug="nordlys")
    admin = OrganisationRoleFactory(organisation=organisation, role="admin", user__full_name=f"{prefix}SUM(A1)").user
    client.force_login(admin)
    response = client.get(reverse("members:export", args=[organisation.pk]).replace("/da/", "/en/"))
    assert _csv_rows(response) == [["Name", "Email", "Roles"], [f"'{prefix}SUM(A1)", admin.email, "Admin"]]


@pytest.mark.parametrize("prefix", PREFIXES)
def test_consent_ledger_export_escapes(staff_client, prefix):
    subscriber = SubscriberFactory(email="ada@example.com")
    ConsentRecord.objects.create(subscriber=subscriber, action="opt_in", source="import", note=f"{prefix}HYPERLINK()")
    response = staff_client.get(f"/en/admin/newsletters/subscriber/{subscriber.pk}/consent.csv")
    rows = _csv_rows(response)
    assert (rows[1][0], rows[1][-1], len(rows)) == ("ada@example.com", f"'{prefix}HYPERLINK()", 2)


@pytest.mark.parametrize("prefix", PREFIXES)
def test_participants_export_escapes(staff_client, prefix):
    event = EventFactory(title_en="Export day")
    question = EventQuestionFactory(event=event, label_en=f"{prefix}Q", kind="text")
    registration = EventRegistrationFactory(
        event=event, full_name=f"{prefix}Name", job_title=f"{prefix}Job", organisation_name=f"{prefix}Org"
    )
    registration.answers.create(question=question, text=f"{prefix}Answer")
    response = staff_client.post(
        "/en/admin/events/event/", {"action": "export_participants", "_selected_action": [event.pk]}
    )
    rows = _csv_rows(response)
    assert rows[0][-1] == f"'{prefix}Q"
    expected = [f"'{prefix}Name", f"'{prefix}Org", f"'{prefix}Job", f"'{prefix}Answer"]
    assert [rows[1][i] for i in (2, 4, 5, 10)] == expected


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("prefix", PREFIXES)
def test_organisation_export_escapes(staff_client, prefix, fmt):
    organisation = member_organisation_create(name=f"{prefix}HYPERLINK(1)", legal_name="Legal ApS")
    response = staff_client.post(
        reverse("admin:members_organisation_changelist"),
        {"action": f"export_{fmt}", "_selected_action": [organisation.pk]},
    )
    rows = _csv_rows(response) if fmt == "csv" else _xlsx_rows(response)
    assert (rows[0][1], rows[1][1], rows[1][2]) == ("name", f"'{_as_read(prefix, fmt)}HYPERLINK(1)", "Legal ApS")


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("prefix", PREFIXES)
def test_contacts_export_escapes(staff_client, prefix, fmt):
    role = OrganisationRoleFactory(role="billing", user=UserFactory(full_name=f"{prefix}cmd|' /C calc'!A0"))
    response = staff_client.post(
        reverse("admin:members_organisationrole_changelist"),
        {"action": f"export_{fmt}", "_selected_action": [role.pk]},
    )
    rows = _csv_rows(response) if fmt == "csv" else _xlsx_rows(response)
    assert tuple(rows[1][2:5]) == (f"'{_as_read(prefix, fmt)}cmd|' /C calc'!A0", role.user.email, "billing")
