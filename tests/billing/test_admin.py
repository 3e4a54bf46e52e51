"""The billing admin: filters and search, issued documents read-only, drafts edited through the service, the issue
and credit actions, payments registered on the invoice's page, the bank statement import, the PDF and hub scoping."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEntry
from billing.models import Invoice, InvoiceLine, Payment
from billing.services import Line, invoice_draft_create
from hubs.models import Hub
from tests.factories import UserFactory, staff_totp_activate
from tests.support.billing import buyer, invoice_issued

pytestmark = pytest.mark.django_db
CHANGELIST = "/en/admin/billing/invoice/"


def url(name, *args):
    return reverse(f"admin:billing_invoice_{name}", args=args).replace("/da/", "/en/")


def draft(**fields):
    return invoice_draft_create(
        buyer=buyer(**fields), lines=[Line(description="Stand", unit_price=Decimal("2000"))], hub=fields.get("hub")
    )


def listed(response) -> list[str]:
    return [str(invoice) for invoice in response.context["cl"].result_list]


def test_the_overdue_filter_lists_issued_invoices_past_their_due_date(staff_client):
    from billing.payments import payment_register

    today = timezone.localdate()
    overdue = invoice_issued(on=today - timedelta(days=31))  # due yesterday
    due_today = invoice_issued(on=today - timedelta(days=30))
    paid = invoice_issued(on=today - timedelta(days=60))
    payment_register(invoice=paid, amount="1250", paid_on=today, by=None)

    def pks(params):
        return sorted(invoice.pk for invoice in staff_client.get(CHANGELIST, params).context["cl"].result_list)

    assert pks({"overdue": "yes"}) == [overdue.pk]
    assert pks({"overdue": "no"}) == sorted([due_today.pk, paid.pk])


def test_search_finds_by_number_buyer_and_payment_reference(staff_client):
    first = invoice_issued(name="Fjordbio ApS")
    invoice_issued(name="Region Midtjylland")
    for term in ("F2027-00001", first.payment_reference):
        assert listed(staff_client.get(CHANGELIST, {"q": term})) == ["Invoice F2027-00001"]
    assert listed(staff_client.get(CHANGELIST, {"q": "midtjylland"})) == ["Invoice F2027-00002"]


def test_an_issued_invoice_is_shown_read_only_and_cannot_be_deleted(staff_client):
    invoice = invoice_issued()
    page = staff_client.get(url("change", invoice.pk))
    assert page.status_code == 200
    body = page.content.decode()
    assert 'name="buyer_name"' not in body
    assert url("payment", invoice.pk) in body
    assert url("pdf", invoice.pk) in body
    staff_client.post(url("change", invoice.pk), {"buyer_name": "Changed"})
    assert Invoice.objects.get().buyer_name == "Fjordbio ApS"
    assert staff_client.get(url("delete", invoice.pk)).status_code == 403


def lines_post(rows, *, initial=0, invoice=None, **fields):
    data = {
        "buyer_name": "Fjordbio A/S",
        "buyer_country": "DK",
        "buyer_email": "ny@fjordbio.example",
        "buyer_cvr": "29190925",
        "language": "en",
        "payment_terms_days": "14",
        "category": "event",
        "lines-TOTAL_FORMS": str(len(rows)),
        "lines-INITIAL_FORMS": str(initial),
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "1000",
        "payments-TOTAL_FORMS": "0",
        "payments-INITIAL_FORMS": "0",
        "payments-MIN_NUM_FORMS": "0",
        "payments-MAX_NUM_FORMS": "1000",
        **fields,
    }
    for n, row in enumerate(rows):
        for name, value in row.items():
            data[f"lines-{n}-{name}"] = value
        if invoice is not None:
            data[f"lines-{n}-invoice"] = str(invoice.pk)
    return data


def test_a_draft_is_changed_through_the_service(staff_client):
    invoice = draft()
    line = invoice.lines.get()
    rows = [
        {"id": str(line.pk), "description": "Stand", "quantity": "2", "unit_price": "2000", "vat_category": "S"},
        {"id": "", "description": "Lunch", "quantity": "1", "unit_price": "100", "vat_category": "E"},
    ]
    response = staff_client.post(url("change", invoice.pk), lines_post(rows, initial=1, invoice=invoice))
    assert response.status_code == 302
    invoice.refresh_from_db()
    assert (invoice.buyer_name, invoice.buyer_email, invoice.language, invoice.payment_terms_days) == (
        "Fjordbio A/S",
        "ny@fjordbio.example",
        "en",
        14,
    )
    assert list(invoice.lines.values_list("description", "net_amount")) == [
        ("Stand", Decimal("4000.00")),
        ("Lunch", Decimal("100.00")),
    ]
    assert (invoice.net_total, invoice.vat_total, invoice.gross_total) == (
        Decimal("4100.00"),
        Decimal("1000.00"),
        Decimal("5100.00"),
    )
    assert AuditEntry.objects.filter(action="billing.invoice.update", target_id=str(invoice.pk)).count() == 1


def test_a_draft_with_a_bad_ean_or_no_lines_shows_form_errors_and_saves_nothing(staff_client):
    invoice = draft()
    line = invoice.lines.get()
    row = {"id": str(line.pk), "description": "Stand", "quantity": "1", "unit_price": "9", "vat_category": "S"}
    bad_ean = staff_client.post(
        url("change", invoice.pk), lines_post([row], initial=1, invoice=invoice, buyer_ean="5798000000002")
    )
    assert bad_ean.status_code == 200
    assert bad_ean.context["adminform"].form.errors["buyer_ean"]
    no_lines = staff_client.post(
        url("change", invoice.pk), lines_post([{**row, "DELETE": "on"}], initial=1, invoice=invoice)
    )
    assert no_lines.status_code == 200
    assert "An invoice needs at least one line." in no_lines.content.decode()
    invoice.refresh_from_db()
    assert (invoice.buyer_name, invoice.gross_total) == ("Fjordbio ApS", Decimal("2500.00"))
    assert list(InvoiceLine.objects.values_list("unit_price", flat=True)) == [Decimal("2000.00")]


def test_a_draft_is_added_through_the_service(staff_client):
    rows = [{"description": "Partner fee", "quantity": "1", "unit_price": "800", "vat_category": "S"}]
    response = staff_client.post(url("add"), lines_post(rows, hub=str(Hub.objects.get(slug="aarhus").pk)))
    assert response.status_code == 302
    invoice = Invoice.objects.get()
    assert (invoice.status, invoice.category, invoice.hub.slug, invoice.gross_total, invoice.payment_terms_days) == (
        "draft",
        "event",
        "aarhus",
        Decimal("1000.00"),
        14,
    )
    assert AuditEntry.objects.filter(action="billing.invoice.draft").count() == 1


def test_the_issue_action_issues_drafts_and_reports_the_ones_refused(staff_client):
    first, issued = draft(), invoice_issued()
    response = staff_client.post(
        CHANGELIST, {"action": "issue_selected", "_selected_action": [first.pk, issued.pk]}, follow=True
    )
    messages = [str(message) for message in response.context["messages"]]
    assert messages == [f"{issued}: This document has already been issued.", "1 draft issued."]
    first.refresh_from_db()
    assert (first.status, first.number) == ("issued", f"F{timezone.localdate().year}-00001")


def test_the_credit_action_asks_for_the_reason_then_credits_in_full(staff_client):
    invoice = invoice_issued()
    selected = {"action": "credit_selected", "_selected_action": [invoice.pk]}
    ask = staff_client.post(CHANGELIST, selected)
    assert ask.status_code == 200
    assert 'name="reason"' in ask.content.decode()
    assert staff_client.post(CHANGELIST, {**selected, "confirm": "yes", "reason": ""}).status_code == 400
    done = staff_client.post(CHANGELIST, {**selected, "confirm": "yes", "reason": "Double booking"})
    assert done.status_code == 302
    note = Invoice.objects.get(kind="credit_note")
    assert (note.credit_reason, note.gross_total, note.credited_invoice_id) == (
        "Double booking",
        Decimal("1250.00"),
        invoice.pk,
    )
    assert Invoice.objects.get(pk=invoice.pk).status == "credited"


def test_a_payment_is_registered_on_the_invoice_page(staff_client):
    invoice = invoice_issued()
    page = staff_client.get(url("payment", invoice.pk))
    assert page.status_code == 200
    assert page.context["owed"] == Decimal("1250.00")
    data = {"amount": "1000.50", "paid_on": "2027-02-01", "method": "bank", "reference": "FI"}
    response = staff_client.post(url("payment", invoice.pk), data)
    assert response.status_code == 302
    payment = Payment.objects.get()
    assert (payment.amount, payment.paid_on, payment.registered_by) == (
        Decimal("1000.50"),
        date(2027, 2, 1),
        staff_client.staff,
    )
    assert Invoice.objects.get().status == "issued"


def test_a_payment_above_the_balance_is_a_form_error_and_saves_nothing(staff_client):
    invoice = invoice_issued()
    data = {"amount": "1250.01", "paid_on": "2027-02-01", "method": "bank"}
    response = staff_client.post(url("payment", invoice.pk), data)
    assert response.status_code == 400
    assert response.context["form"].non_field_errors() == [
        "1,250.01 DKK is more than the 1,250.00 DKK still owed on F2027-00001."
    ]
    bad = staff_client.post(url("payment", invoice.pk), {**data, "amount": "abc", "paid_on": "32-01-2027"})
    assert bad.status_code == 400
    assert set(bad.context["form"].errors) == {"amount", "paid_on"}
    assert (Payment.objects.count(), Invoice.objects.get().paid_total) == (0, Decimal("0.00"))


def upload(content: bytes, name="kontoudtog.csv"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return {"statement": SimpleUploadedFile(name, content, content_type="text/csv")}


def test_the_statement_import_page_registers_and_lists_what_it_could_not_match(staff_client):
    invoice = invoice_issued()
    content = (
        "Dato;Tekst;Beløb;Saldo\r\n"
        f"05-02-2027;FI-indbetaling {invoice.payment_reference};1.250,00;5.000,00\r\n"
        "05-02-2027;Indbetaling;300,00;5.300,00\r\n"
    ).encode("cp1252")
    page = staff_client.get(url("statement"))
    assert "Dato;Tekst;Beløb;Saldo" in page.content.decode()
    response = staff_client.post(url("statement"), upload(content))
    assert response.status_code == 200
    result = response.context["result"]
    assert [payment.invoice_id for _line, payment in result.registered] == [invoice.pk]
    assert [(line.row, str(why)) for line, why in result.unmatched] == [
        (3, "no payment reference or invoice number in the text")
    ]
    assert 'id="statement-unmatched"' in response.content.decode()
    assert Invoice.objects.get().status == "paid"


def test_a_statement_in_another_format_is_a_form_error_and_registers_nothing(staff_client):
    invoice = invoice_issued()
    content = f"2027-02-05,{invoice.payment_reference},1250.00\n".encode()
    response = staff_client.post(url("statement"), upload(content))
    assert response.status_code == 400
    assert response.context["form"].errors["statement"] == [
        "Line 1 does not have the columns Dato;Tekst;Beløb;Saldo separated by semicolons."
    ]
    assert Payment.objects.count() == 0


def test_the_pdf_is_downloaded_from_the_admin(staff_client):
    invoice = invoice_issued()
    response = staff_client.get(url("pdf", invoice.pk))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    assert staff_client.get(url("pdf", draft().pk)).status_code == 404


def aarhus_staff_log_in(client, *, permissions=(), groups=()):
    """A staff member of the Aarhus hub with an authenticator app, signed in."""
    user = UserFactory(is_staff=True)
    staff_totp_activate(user)
    user.user_permissions.set(permissions)
    user.groups.set(groups)
    Hub.objects.get(slug="aarhus").staff.add(user)
    client.force_login(user)
    return client


@pytest.fixture
def hub_staff_client(client):
    return aarhus_staff_log_in(client, permissions=Permission.objects.filter(content_type__app_label="billing"))


def test_hub_staff_see_and_open_only_their_hubs_invoices(hub_staff_client):
    aarhus = invoice_issued(hub=Hub.objects.get(slug="aarhus"))
    odense = invoice_issued(hub=Hub.objects.get(slug="odense"), name="Odense Kommune")
    assert listed(hub_staff_client.get(CHANGELIST)) == [str(aarhus)]
    assert hub_staff_client.get(url("change", odense.pk)).status_code == 302  # the admin's "does not exist"
    assert hub_staff_client.get(url("payment", odense.pk)).status_code == 404
    assert hub_staff_client.get(url("pdf", odense.pk)).status_code == 404
    response = hub_staff_client.post(url("payment", odense.pk), {"amount": "1", "paid_on": "2027-02-01"})
    assert response.status_code == 404
    assert Payment.objects.count() == 0
    # Even with every billing permission, the books (all hubs' invoices) are not a hub's: no export, no statement.
    assert hub_staff_client.get(url("export")).status_code == 403
    assert hub_staff_client.get(url("export"), {"start": "2027-01-01", "end": "2027-12-31"}).status_code == 403
    assert hub_staff_client.get(url("statement")).status_code == 403
    page = hub_staff_client.get(CHANGELIST).content.decode()
    assert (url("export") in page, url("statement") in page) == (False, False)


@pytest.fixture
def hub_staff_group_client(client):
    """A hub staff member with the permissions the "Hub staff" group gives, and nothing of their own."""
    from django.contrib.auth.models import Group

    return aarhus_staff_log_in(client, groups=[Group.objects.get(name="Hub staff")])


def test_the_hub_staff_group_reads_its_hubs_invoices_and_payments_and_changes_nothing(hub_staff_group_client):
    from billing.payments import payment_register

    client = hub_staff_group_client
    aarhus = invoice_issued(hub=Hub.objects.get(slug="aarhus"))
    odense = invoice_issued(hub=Hub.objects.get(slug="odense"), name="Odense Kommune")
    payment_register(invoice=aarhus, amount=Decimal("100.00"), paid_on=timezone.localdate(), by=None)
    payment_register(invoice=odense, amount=Decimal("100.00"), paid_on=timezone.localdate(), by=None)
    assert listed(client.get(CHANGELIST)) == [str(aarhus)]
    page = client.get(url("change", aarhus.pk))
    assert (page.status_code, 'name="_save"' in page.content.decode()) == (200, False)
    assert client.get(url("pdf", aarhus.pk)).status_code == 200
    assert client.get(url("pdf", odense.pk)).status_code == 404
    payments = client.get("/en/admin/billing/payment/")
    assert (payments.status_code, payments.context["cl"].result_count) == (200, 1)
    assert [client.get(url(name)).status_code for name in ("export", "statement")] == [403, 403]
    assert client.get(url("payment", aarhus.pk)).status_code == 403
    response = client.post(url("payment", aarhus.pk), {"amount": "1", "paid_on": "2027-02-01"})
    assert (response.status_code, Payment.objects.count()) == (403, 2)
    assert client.get(CHANGELIST).context["action_form"] is None  # neither "issue" nor "credit"


def test_the_invoice_list_reads_the_same_number_of_queries_for_one_row_and_three(staff_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert staff_client.get(CHANGELIST).status_code == 200
        return len(captured)

    invoice_issued()
    one = queries()
    invoice_issued(name="Region Midtjylland")
    draft()
    assert queries() == one


def test_the_dunning_beat_task_runs_the_service():
    from billing.tasks import dunning_run_task

    invoice_issued(on=timezone.localdate() - timedelta(days=60))
    assert dunning_run_task.apply().get() == 1
    assert Invoice.objects.get().flagged_at is not None


@pytest.mark.parametrize(
    ("typed", "amount"),
    [("1.000,50", "1000.50"), ("1000,50", "1000.50"), ("1,000.50", "1000.50"), ("1000.5", "1000.50")],
)
def test_the_payment_amount_is_read_as_staff_copy_it_from_the_bank(staff_client, typed, amount):
    invoice = invoice_issued()
    data = {"amount": typed, "paid_on": "2027-02-01", "method": "bank"}
    response = staff_client.post(url("payment", invoice.pk), data)
    assert response.status_code == 302
    assert str(Payment.objects.get().amount) == amount


def test_issuing_in_the_admin_hands_the_pdf_and_mail_to_a_worker_after_the_commit(
    staff_client, monkeypatch, django_capture_on_commit_callbacks, settings, tmp_path
):
    from billing import services, tasks

    settings.MEDIA_ROOT = tmp_path
    handed = []
    monkeypatch.setattr(tasks.invoice_deliver_task, "delay", lambda **kwargs: handed.append(kwargs))
    monkeypatch.setattr(services, "publish_in_background", lambda publish: publish())
    first = draft()
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(CHANGELIST, {"action": "issue_selected", "_selected_action": [first.pk]})
    first.refresh_from_db()
    assert (first.status, handed, first.pdf.name) == ("issued", [{"invoice_id": first.pk}], "")
    assert tasks.invoice_deliver_task(invoice_id=first.pk) is True
    first.refresh_from_db()
    assert first.pdf.name == f"invoices/{first.year}/{first.number}.pdf"


def test_documents_left_undelivered_are_delivered_by_the_beat_run(settings, tmp_path):
    from billing.services import invoices_undelivered_deliver
    from outbox.models import OutboxMessage

    settings.MEDIA_ROOT = tmp_path
    recent, old = invoice_issued(), invoice_issued()
    Invoice.objects.filter(pk=old.pk).update(issued_at=timezone.now() - timedelta(minutes=30))
    assert invoices_undelivered_deliver() == 1  # the recent one is still in its worker's hands
    assert list(Invoice.objects.exclude(pdf="").values_list("pk", flat=True)) == [old.pk]
    assert OutboxMessage.objects.filter(dedupe_key=f"billing:invoice:{old.pk}:issued").count() == 1
    assert invoices_undelivered_deliver() == 0
    assert recent.pk != old.pk
