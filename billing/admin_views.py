"""The invoice admin's own pages: register a payment, download the PDF, import a bank statement, export a period
for the accounts, and confirm a full credit note. `InvoiceAdmin.get_urls` wires them; each calls a service and
shows its refusal as a form error with a 400, so nothing is half-saved."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from billing.exports import accounting_export
from billing.forms import CreditForm, PaymentForm, PeriodForm, StatementForm, previous_month
from billing.models import Invoice
from billing.payments import money, payment_register, statement_import
from billing.selectors import invoice_owed
from billing.services import credit_note_issue, invoice_deliver_later, invoice_pdf_store
from common.admin import run_on_selected
from common.errors import DomainError
from hubs.scoping import user_hub_scope


def _page(model_admin, request, template: str, context: dict, *, status: int = 200) -> TemplateResponse:
    return TemplateResponse(
        request,
        f"admin/billing/invoice/{template}",
        {**model_admin.admin_site.each_context(request), "opts": Invoice._meta, **context},
        status=status,
    )


def _invoice(model_admin, request, object_id) -> Invoice:
    invoice = model_admin.get_object(request, object_id)  # through get_queryset: another hub's invoice is a 404
    if invoice is None:
        raise Http404
    return invoice


def _change_url(invoice: Invoice) -> str:
    return reverse("admin:billing_invoice_change", args=[invoice.pk])


def payment_add(model_admin, request, object_id):
    invoice = _invoice(model_admin, request, object_id)
    if not request.user.has_perm("billing.add_payment"):
        raise PermissionDenied
    form = PaymentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            payment_register(invoice=invoice, by=request.user, **form.cleaned_data)
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            invoice.refresh_from_db()
            model_admin.message_user(
                request,
                _("A payment of %(amount)s DKK on %(number)s is registered (%(status)s).")
                % {
                    "amount": money(form.cleaned_data["amount"]),
                    "number": invoice.number,
                    "status": invoice.get_status_display(),
                },
                messages.SUCCESS,
            )
            return redirect(_change_url(invoice))
    owed = invoice_owed(invoice=invoice) if not invoice.is_draft else None
    return _page(
        model_admin,
        request,
        "payment_add.html",
        {"title": _("Register a payment"), "invoice": invoice, "owed": owed, "form": form},
        status=400 if form.is_bound else 200,
    )


def pdf_download(model_admin, request, object_id):
    invoice = _invoice(model_admin, request, object_id)
    if invoice.is_draft:
        raise Http404
    invoice = invoice_pdf_store(invoice=invoice)
    return FileResponse(invoice.pdf.open("rb"), filename=f"{invoice.number}.pdf", content_type="application/pdf")


def books_access(user) -> bool:
    """The bank statement and the accounting export cover every hub's invoices: they are for staff who see every
    hub (the cluster's finance), never for hub staff, whose admin shows their own hub's invoices only."""
    return user_hub_scope(user) is None


def statement_upload(model_admin, request):
    if not (request.user.has_perm("billing.add_payment") and books_access(request.user)):
        raise PermissionDenied
    form = StatementForm(request.POST or None, request.FILES or None)
    result = None
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                result = statement_import(content=form.cleaned_data["statement"], by=request.user)
            except DomainError as error:
                form.add_error("statement", str(error))
            else:
                status = 200
                count = len(result.registered)
                model_admin.message_user(
                    request,
                    ngettext("%(count)s payment registered.", "%(count)s payments registered.", count)
                    % {"count": count},
                    messages.SUCCESS if count else messages.INFO,
                )
    return _page(
        model_admin,
        request,
        "statement_import.html",
        {"title": _("Import a bank statement"), "form": form, "result": result},
        status=status,
    )


def export_period(model_admin, request):
    if not (model_admin.has_view_permission(request) and books_access(request.user)):
        raise PermissionDenied
    bound = "start" in request.GET or "end" in request.GET
    form = PeriodForm(request.GET) if bound else PeriodForm(initial=previous_month())
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        return accounting_export(start=data["start"], end=data["end"], fmt=data["fmt"])
    return _page(
        model_admin,
        request,
        "accounting_export.html",
        {"title": _("Accounting export"), "form": form},
        status=400 if form.is_bound else 200,
    )


def credit_full(model_admin, request, queryset):
    """The "issue a full credit note" action: ask for the reason, then credit each selected invoice in full."""
    form = CreditForm(request.POST if request.POST.get("confirm") == "yes" else None)
    if form.is_bound and form.is_valid():
        reason = form.cleaned_data["reason"]
        run_on_selected(
            model_admin,
            request,
            queryset,
            lambda invoice: invoice_deliver_later(
                invoice=credit_note_issue(invoice=invoice, reason=reason, by=request.user)
            ),
            done=lambda n: (
                ngettext("%(count)s invoice credited in full.", "%(count)s invoices credited in full.", n)
                % {"count": n}
            ),
        )
        return None
    return _page(
        model_admin,
        request,
        "credit_confirm.html",
        {
            "title": _("Issue full credit notes"),
            "invoices": list(queryset),
            "form": form,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        },
        status=400 if form.is_bound else 200,
    )
