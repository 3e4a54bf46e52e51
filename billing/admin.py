"""The billing back office. A draft is edited here (its buyer and lines inline) through `invoice_draft_update`; an
issued document is only viewed, never changed or deleted: staff issue, credit and register payments through the
services (actions and the pages in `billing.admin_views`). Hub staff see only their hub's invoices."""

from functools import partial

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from billing import admin_views
from billing.models import Invoice, InvoiceLine, Payment
from billing.selectors import invoice_owed
from billing.services import (
    Buyer,
    Line,
    invoice_deliver_later,
    invoice_draft_check,
    invoice_draft_create,
    invoice_draft_update,
    invoice_issue,
)
from billing.validators import validate_cvr, validate_ean
from common.admin import ReadOnlyAdminMixin, run_on_selected
from common.errors import DomainError
from hubs.scoping import HubScopedAdminMixin


class OverdueFilter(admin.SimpleListFilter):
    title = _("overdue")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", _("Overdue")), ("no", _("Not overdue"))]

    def queryset(self, request, queryset):
        overdue = {"status": Invoice.Status.ISSUED, "due_date__lt": timezone.localdate()}
        if self.value() == "yes":
            return queryset.filter(**overdue)
        if self.value() == "no":
            return queryset.exclude(**overdue)
        return queryset


class FlaggedFilter(admin.SimpleListFilter):
    """Invoices whose reminders have all gone unanswered: staff take over."""

    title = _("flagged for staff")
    parameter_name = "flagged"

    def lookups(self, request, model_admin):
        return [("yes", _("Flagged after the last reminder"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(status=Invoice.Status.ISSUED, flagged_at__isnull=False)
        return queryset


class KindFilter(admin.ChoicesFieldListFilter):
    """Invoice or credit note; the field's own name ("type" in Danish) would repeat the category's."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.title = _("invoice or credit note")


class InvoiceForm(forms.ModelForm):
    class Meta:
        model = Invoice
        # The admin narrows this to its fieldsets less the read-only fields.
        fields = [field.name for field in Invoice._meta.fields if field.editable and not field.primary_key]

    def clean_buyer_ean(self):
        ean = self.cleaned_data["buyer_ean"].strip()
        if ean:
            validate_ean(ean)
        return ean

    def clean_buyer_cvr(self):
        cvr = self.cleaned_data["buyer_cvr"].strip()
        if cvr:
            validate_cvr(cvr)
        return cvr


class DraftLinesFormSet(BaseInlineFormSet):
    """The lines of a draft; before anything is saved the service's own check runs on the buyer and the lines, so
    its refusal shows here as a form error."""

    def lines(self) -> list[Line]:
        return [
            Line(
                description=form.cleaned_data["description"],
                unit_price=form.cleaned_data["unit_price"],
                quantity=form.cleaned_data["quantity"],
                vat_category=form.cleaned_data["vat_category"],
                period_start=form.cleaned_data.get("period_start"),
                period_end=form.cleaned_data.get("period_end"),
            )
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        try:
            invoice_draft_check(buyer=Buyer.of(self.instance), lines=self.lines())
        except DomainError as error:
            raise ValidationError(str(error)) from None


def _editable(obj) -> bool:
    return obj is None or obj.is_draft


class InvoiceLineInline(admin.TabularInline):
    model = InvoiceLine
    formset = DraftLinesFormSet
    fields = ["description", "quantity", "unit_price", "vat_category", "period_start", "period_end", "net_amount"]
    readonly_fields = ["net_amount"]
    extra = 0

    def get_extra(self, request, obj=None, **kwargs):
        return 1 if obj is None else 0

    def has_add_permission(self, request, obj=None):
        return _editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return _editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return _editable(obj) and super().has_delete_permission(request, obj)


class PaymentInline(ReadOnlyAdminMixin, admin.TabularInline):
    """Payments are registered through "Register a payment" (the service); here they are only listed."""

    model = Payment
    fields = ["paid_on", "amount", "method", "reference", "registered_by_name", "created_at"]
    readonly_fields = fields
    extra = 0

    @admin.display(description=_("registered by"))
    def registered_by_name(self, payment):
        return payment.registered_by or "–"


ISSUED_FIELDS = [
    "number",
    "kind",
    "status",
    "credited_invoice",
    "credit_reason",
    "issue_date",
    "due_date",
    "payment_reference",
    "net_total",
    "vat_total",
    "gross_total",
    "paid_total",
    "owed_display",
    "dunning_level",
    "flagged_at",
    "pdf_link",
]


@admin.register(Invoice)
class InvoiceAdmin(HubScopedAdminMixin, admin.ModelAdmin):
    form = InvoiceForm
    # Kind, type and hub are filters and the PDF is on the invoice's page: as columns they pushed the amounts out of
    # view at 1280 px.
    list_display = [
        "number_column",
        "status_badge",
        "buyer_name",
        "due_on",
        "amount_column",
    ]
    list_display_links = ["number_column"]
    list_filter = ["status", OverdueFilter, FlaggedFilter, ("kind", KindFilter), "category", "hub"]
    search_fields = ["number", "buyer_name", "payment_reference", "buyer_cvr", "buyer_email"]
    list_select_related = ["hub"]
    actions = ["issue_selected", "credit_selected"]
    fieldsets = [
        (None, {"fields": ["number", "kind", "status", "category", "hub", "credited_invoice", "credit_reason"]}),
        (
            _("Buyer"),
            {
                "fields": [
                    "buyer_name",
                    "buyer_address",
                    "buyer_postcode",
                    "buyer_city",
                    "buyer_country",
                    "buyer_cvr",
                    "buyer_vat_number",
                    "buyer_ean",
                    "buyer_email",
                    "buyer_contact_name",
                    "buyer_reference",
                    "order_reference",
                    "language",
                ]
            },
        ),
        (
            _("Terms and totals"),
            {
                "fields": [
                    "payment_terms_days",
                    "issue_date",
                    "due_date",
                    "payment_reference",
                    "net_total",
                    "vat_total",
                    "gross_total",
                    "paid_total",
                    "owed_display",
                    "dunning_level",
                    "flagged_at",
                    "pdf_link",
                ]
            },
        ),
    ]

    def get_inlines(self, request, obj):
        return [InvoiceLineInline] if obj is None else [InvoiceLineInline, PaymentInline]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ISSUED_FIELDS
        return [*ISSUED_FIELDS, "category", "hub"]

    def has_change_permission(self, request, obj=None):
        # An issued document never changes: it is shown read-only, and a correction is a credit note.
        return _editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return _editable(obj) and super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        """Nothing is written here: `save_related` hands the buyer and the lines to the service together."""

    def save_related(self, request, form, formsets, change):
        lines_formset = next(formset for formset in formsets if isinstance(formset, DraftLinesFormSet))
        invoice, data = form.instance, form.cleaned_data
        buyer, lines = Buyer.of(invoice), lines_formset.lines()
        if change:
            invoice_draft_update(
                invoice=invoice, by=request.user, buyer=buyer, lines=lines, terms_days=data["payment_terms_days"]
            )
        else:
            created = invoice_draft_create(
                buyer=buyer, lines=lines, category=data["category"], hub=data.get("hub"), by=request.user
            )
            if created.payment_terms_days != data["payment_terms_days"]:
                invoice_draft_update(invoice=created, by=request.user, terms_days=data["payment_terms_days"])
            invoice.pk = created.pk
        for formset in formsets:
            # The admin's change message reads these; the service wrote the lines, not the formset.
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "books_access": admin_views.books_access(request.user)}
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        def view(function):
            return self.admin_site.admin_view(partial(function, self))

        return [
            path("bank-statement/", view(admin_views.statement_upload), name="billing_invoice_statement"),
            path("accounting-export/", view(admin_views.export_period), name="billing_invoice_export"),
            path("<path:object_id>/payment/", view(admin_views.payment_add), name="billing_invoice_payment"),
            path("<path:object_id>/pdf/", view(admin_views.pdf_download), name="billing_invoice_pdf"),
            *super().get_urls(),
        ]

    @admin.display(description=_("number"), ordering="number")
    def number_column(self, invoice):
        if not invoice.number:
            return _("draft %(pk)s") % {"pk": invoice.pk}
        issued = date_format(invoice.issue_date, "SHORT_DATE_FORMAT")
        return format_html('{}<br><span class="amount-paid">{}</span>', invoice.number, issued)

    @admin.display(description=_("due date"), ordering="due_date")
    def due_on(self, invoice):
        return date_format(invoice.due_date, "SHORT_DATE_FORMAT") if invoice.due_date else "–"

    @admin.display(description=_("total (DKK)"), ordering="gross_total")
    def amount_column(self, invoice):
        total = number_format(invoice.gross_total, decimal_pos=2, force_grouping=True)
        if invoice.status != Invoice.Status.ISSUED or not invoice.paid_total:
            return total
        paid = number_format(invoice.paid_total, decimal_pos=2, force_grouping=True)
        return format_html('{}<br><span class="amount-paid">{}</span>', total, _("paid %(amount)s") % {"amount": paid})

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, invoice):
        badge = format_html(
            '<span class="status-badge status-{}">{}</span>', invoice.status, invoice.get_status_display()
        )
        if invoice.is_overdue(today=timezone.localdate()):
            badge = format_html('{} <span class="status-badge status-overdue">{}</span>', badge, _("overdue"))
        return badge

    @admin.display(description=_("still owed (DKK)"))
    def owed_display(self, invoice):
        if invoice is None or invoice.pk is None or invoice.is_draft:
            return "–"
        return number_format(invoice_owed(invoice=invoice), decimal_pos=2, force_grouping=True)

    @admin.display(description=_("PDF"))
    def pdf_link(self, invoice):
        if invoice is None or invoice.pk is None or invoice.is_draft:
            return "–"
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:billing_invoice_pdf", args=[invoice.pk]), _("Download PDF")
        )

    @admin.action(description=_("Issue the selected drafts"), permissions=["change"])
    def issue_selected(self, request, queryset):
        run_on_selected(
            self,
            request,
            queryset.order_by("pk"),
            lambda invoice: invoice_deliver_later(invoice=invoice_issue(invoice=invoice, by=request.user)),
            done=lambda n: ngettext("%(count)s draft issued.", "%(count)s drafts issued.", n) % {"count": n},
        )

    @admin.action(description=_("Issue a full credit note for the selected invoices"), permissions=["change"])
    def credit_selected(self, request, queryset):
        return admin_views.credit_full(self, request, queryset.order_by("pk"))


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdminMixin, HubScopedAdminMixin, admin.ModelAdmin):
    """Every payment received, for looking up; payments are registered on their invoice's page or by a bank
    statement import, and never changed here."""

    hub_lookup = "invoice__hub"
    list_display = ["paid_on", "invoice", "amount", "method", "reference", "registered_by"]
    list_filter = ["method", "paid_on"]
    search_fields = ["invoice__number", "invoice__buyer_name", "reference"]
    list_select_related = ["invoice", "registered_by"]
