"""A company admin's invoices and credit notes in the portal: the list, the PDF and, for a buyer on NemHandel (an EAN),
the Peppol UBL. Every lookup is scoped to an organisation the user administers; a foreign or draft number is 404."""

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import pgettext_lazy
from django.views.decorators.http import require_safe

from billing.selectors import customer_document, customer_documents, document_state
from billing.services import invoice_pdf_store
from billing.ubl import invoice_ubl
from members import selectors

STATES = {
    "paid": (pgettext_lazy("invoice state", "Paid"), "badge-success"),
    "overdue": (pgettext_lazy("invoice state", "Overdue"), "badge-danger"),
    "open": (pgettext_lazy("invoice state", "Open"), "badge-warning"),
    "credited": (pgettext_lazy("invoice state", "Credited"), "badge-muted"),
    "credit_note": (pgettext_lazy("invoice state", "Credit note"), "badge-primary"),
}


def _customer_key(organisation) -> str:
    return f"organisation:{organisation.pk}"


def _document(request, pk: int, number: str):
    organisation = selectors.organisation_for_admin(user=request.user, pk=pk)
    invoice = customer_document(customer_key=_customer_key(organisation), number=number)
    if invoice is None:
        raise Http404
    return invoice


@login_required
@require_safe
def invoice_list(request, pk):
    organisation = selectors.organisation_for_admin(user=request.user, pk=pk)
    today = timezone.localdate()
    rows = []
    for invoice in customer_documents(customer_key=_customer_key(organisation)):
        label, badge = STATES[document_state(invoice=invoice, today=today)]
        rows.append({"invoice": invoice, "state": label, "badge": badge})
    return render(request, "members/invoice_list.html", {"organisation": organisation, "rows": rows})


@login_required
@require_safe
def invoice_pdf(request, pk, number):
    invoice = invoice_pdf_store(invoice=_document(request, pk, number))
    return FileResponse(
        invoice.pdf.open("rb"), as_attachment=True, filename=f"{invoice.number}.pdf", content_type="application/pdf"
    )


@login_required
@require_safe
def invoice_xml(request, pk, number):
    invoice = _document(request, pk, number)
    if not invoice.buyer_ean:
        raise Http404
    response = HttpResponse(invoice_ubl(invoice=invoice), content_type="application/xml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{invoice.number}.xml"'
    return response
