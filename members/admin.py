"""The back office for members: organisations, applications, memberships, fees, contacts and partners.
Actions call the services; hub staff see only their hub's organisations."""

from functools import partial

from django import forms
from django.contrib import admin
from django.db import models
from django.db.models import Exists, OuterRef, Prefetch
from django.http import HttpResponse
from django.urls import path
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from import_export import fields, resources
from modeltranslation.admin import TranslationAdmin

from accounts.admin_autocomplete import CheckedAutocompleteMixin
from common import exports
from common.admin import ACCESSIBLE_FORMFIELDS, run_on_selected
from hubs.scoping import HubScopedAdminMixin
from members import admin_views, services
from members.models import (
    Invitation,
    Membership,
    MembershipApplication,
    MembershipType,
    MembershipTypeFee,
    Organisation,
    OrganisationRole,
    Partner,
    Segment,
    Tag,
)
from members.selectors import active_membership_q

# --- Export (django-import-export resources, served as plain admin actions) ----------------------


class OrganisationResource(resources.ModelResource):
    segments = fields.Field(attribute="segments", column_name="segments")
    hub = fields.Field(attribute="hub__name", column_name="hub")
    region = fields.Field(attribute="region__name", column_name="region")

    class Meta:
        model = Organisation
        fields = [
            "id",
            "name",
            "legal_name",
            "cvr",
            "kind",
            "size_band",
            "website",
            "address",
            "postcode",
            "city",
            "country",
            "listed_in_directory",
            "region",
            "hub",
            "segments",
        ]

    def dehydrate_segments(self, organisation):
        return ", ".join(segment.code for segment in organisation.segments.all())


class ContactResource(resources.ModelResource):
    organisation = fields.Field(attribute="organisation__name", column_name="organisation")
    cvr = fields.Field(attribute="organisation__cvr", column_name="cvr")
    name = fields.Field(attribute="user__full_name", column_name="name")
    email = fields.Field(attribute="user__email", column_name="email")
    language = fields.Field(attribute="user__preferred_language", column_name="language")

    class Meta:
        model = OrganisationRole
        fields = ["organisation", "cvr", "name", "email", "role", "language"]


def _export_response(dataset, *, fmt: str, name: str) -> HttpResponse:
    """Through the shared writer, which keeps cells a spreadsheet would run as formulas as text."""
    stamp = timezone.localdate().isoformat()
    return exports.export_response(fmt=fmt, filename=f"{name}-{stamp}.{fmt}", header=dataset.headers, rows=dataset)


def _audit_export(request, *, what: str, count: int) -> None:
    services.export_record(by=request.user, what=what, rows=count)


# --- Organisations --------------------------------------------------------------------------------


class MembershipStatusFilter(admin.SimpleListFilter):
    """Defaults to active members, because that is what staff look for nearly every time."""

    title = _("membership")
    parameter_name = "membership"

    def lookups(self, request, model_admin):
        return [("active", _("Active members")), ("inactive", _("Not active")), ("all", _("All"))]

    def choices(self, changelist):
        value = self.value() or "active"
        for lookup, title in self.lookup_choices:
            yield {
                "selected": value == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        value = self.value() or "active"
        active = Exists(Membership.objects.filter(active_membership_q(), organisation=OuterRef("pk")))
        if value == "active":
            return queryset.filter(active)
        if value == "inactive":
            return queryset.exclude(active)
        return queryset


ORGANISATION_M2M = {field.name for field in Organisation._meta.many_to_many}


class OrganisationRoleInline(CheckedAutocompleteMixin, admin.TabularInline):
    model = OrganisationRole
    extra = 0
    autocomplete_fields = ["user"]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ["status", "membership_type", "size_band", "period_start", "period_end", "fee_dkk", "invoice", "paid_on"]
    # Status, payment and the invoice move only through the membership actions and the renewal run.
    readonly_fields = ["status", "invoice", "paid_on"]
    ordering = ["-period_end"]


@admin.register(Organisation)
class OrganisationAdmin(CheckedAutocompleteMixin, HubScopedAdminMixin, TranslationAdmin):
    list_display = ["name", "membership_status", "kind", "size_band", "hub", "city", "listed_in_directory"]
    list_filter = [MembershipStatusFilter, "kind", "size_band", "hub", "segments"]
    search_fields = ["name", "legal_name", "cvr", "city", "roles__user__email"]
    autocomplete_fields = ["offer_tags", "seek_tags"]
    formfield_overrides = ACCESSIBLE_FORMFIELDS
    prepopulated_fields = {"slug": ("name",)}
    inlines = [OrganisationRoleInline, MembershipInline]
    list_select_related = ["hub"]
    actions = ["export_csv", "export_xlsx"]
    fieldsets = [
        (
            None,
            {"fields": ["name", "legal_name", "slug", "cvr", "kind", "size_band", "segments", "listed_in_directory"]},
        ),
        (
            _("Contact and place"),
            {"fields": ["website", "logo", "address", "postcode", "city", "country", "region", "hub"]},
        ),
        (_("Profile"), {"fields": ["description", "offers", "offer_tags", "seeks", "seek_tags"]}),
        (
            _("Billing details"),
            {"fields": ["billing_contact_name", "billing_email", "ean", "po_number", "buyer_reference", "vat_number"]},
        ),
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .prefetch_related(
                Prefetch(
                    "memberships", queryset=Membership.objects.order_by("-period_end"), to_attr="memberships_latest"
                )
            )
        )

    @admin.display(description=_("membership"))
    def membership_status(self, organisation):
        latest = organisation.memberships_latest[0] if organisation.memberships_latest else None
        if latest is None:
            return format_html('<span class="status-badge">{}</span>', _("none"))
        return format_html('<span class="status-badge status-{}">{}</span>', latest.status, latest.get_status_display())

    def save_model(self, request, obj, form, change):
        # The services own the rules (the hub follows the region unless staff chose one) and the audit row.
        m2m = {name: form.cleaned_data[name] for name in form.changed_data if name in ORGANISATION_M2M}
        if not change:
            services.organisation_create(organisation=obj, by=request.user, m2m=m2m)
            return
        data = {name: getattr(obj, name) for name in form.changed_data if name not in ORGANISATION_M2M}
        services.organisation_profile_update(organisation=obj, data=data, m2m=m2m, by=request.user)
        obj.refresh_from_db()

    def delete_model(self, request, obj):
        services.organisation_delete(organisation=obj, by=request.user)

    def delete_queryset(self, request, queryset):
        for organisation in queryset:
            services.organisation_delete(organisation=organisation, by=request.user)

    def save_formset(self, request, form, formset, change):
        # Role and membership rows edited inline go through the same services as on their own admin pages.
        instances = formset.save(commit=False)
        for deleted in formset.deleted_objects:
            if isinstance(deleted, Membership):
                services.membership_delete(membership=deleted, by=request.user)
            else:
                services.role_delete(role=deleted, by=request.user)
        changed = {id(inline_form.instance): inline_form.changed_data for inline_form in formset.forms}
        for instance in instances:
            if not isinstance(instance, Membership):
                services.role_save(role=instance, by=request.user)
            elif instance.pk is None:
                services.membership_create(membership=instance, by=request.user)
            else:
                changes = {name: getattr(instance, name) for name in changed[id(instance)]}
                services.membership_update(membership=instance, changes=changes, by=request.user)
        formset.save_m2m()

    @admin.action(description=_("Export selected organisations as CSV"), permissions=["view"])
    def export_csv(self, request, queryset):
        return self._export(request, queryset, fmt="csv")

    @admin.action(description=_("Export selected organisations as Excel"), permissions=["view"])
    def export_xlsx(self, request, queryset):
        return self._export(request, queryset, fmt="xlsx")

    def _export(self, request, queryset, *, fmt):
        queryset = queryset.select_related("hub", "region").prefetch_related("segments")
        _audit_export(request, what="organisations", count=queryset.count())
        return _export_response(OrganisationResource().export(queryset), fmt=fmt, name="members")


@admin.register(OrganisationRole)
class OrganisationRoleAdmin(CheckedAutocompleteMixin, HubScopedAdminMixin, admin.ModelAdmin):
    """The contacts: every person in a role, exportable."""

    hub_lookup = "organisation__hub"
    list_display = ["user", "user_email", "role", "organisation"]
    list_filter = ["role", "organisation__hub"]
    search_fields = ["user__email", "user__full_name", "organisation__name"]
    autocomplete_fields = ["user", "organisation"]
    list_select_related = ["user", "organisation"]
    actions = ["export_csv", "export_xlsx"]

    @admin.display(description=_("email"), ordering="user__email")
    def user_email(self, role):
        return role.user.email

    def save_model(self, request, obj, form, change):
        services.role_save(role=obj, by=request.user)

    def delete_model(self, request, obj):
        services.role_delete(role=obj, by=request.user)

    def delete_queryset(self, request, queryset):
        for role in queryset.select_related("organisation"):
            services.role_delete(role=role, by=request.user)

    @admin.action(description=_("Export selected contacts as CSV"), permissions=["view"])
    def export_csv(self, request, queryset):
        return self._export(request, queryset, fmt="csv")

    @admin.action(description=_("Export selected contacts as Excel"), permissions=["view"])
    def export_xlsx(self, request, queryset):
        return self._export(request, queryset, fmt="xlsx")

    def _export(self, request, queryset, *, fmt):
        queryset = queryset.select_related("user", "organisation")
        _audit_export(request, what="contacts", count=queryset.count())
        return _export_response(ContactResource().export(queryset), fmt=fmt, name="contacts")


# --- Memberships and fees -------------------------------------------------------------------------


class MembershipDunningFilter(admin.SimpleListFilter):
    """Memberships whose invoice went through every reminder unpaid (billing flags the invoice)."""

    title = _("payment")
    parameter_name = "dunning"

    def lookups(self, request, model_admin):
        return [("flagged", _("Reminded, still unpaid"))]

    def queryset(self, request, queryset):
        if self.value() == "flagged":
            return queryset.filter(invoice__flagged_at__isnull=False, invoice__status="issued")
        return queryset


@admin.register(Membership)
class MembershipAdmin(CheckedAutocompleteMixin, HubScopedAdminMixin, admin.ModelAdmin):
    hub_lookup = "organisation__hub"
    list_display = [
        "organisation",
        "membership_type",
        "status_badge",
        "period_start",
        "period_end",
        "fee_dkk",
        "invoice",
        "paid_on",
        "dunning_flag",
    ]
    list_filter = ["status", MembershipDunningFilter, "membership_type", "period_end", "organisation__hub"]
    search_fields = ["organisation__name", "organisation__cvr", "invoice__number"]
    autocomplete_fields = ["organisation"]
    list_select_related = ["organisation", "membership_type", "invoice"]
    date_hierarchy = "period_end"
    actions = ["renew", "mark_paid", "cancel"]

    def get_readonly_fields(self, request, obj=None):
        # Status and payment move only through the actions, which check the transition and leave an audit row.
        fixed = ["status", "invoice", "cancelled_at", "cancelled_by", "created_at"]
        return [*fixed, "paid_on"] if obj is not None else fixed

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, membership):
        return format_html(
            '<span class="status-badge status-{}">{}</span>', membership.status, membership.get_status_display()
        )

    @admin.display(description=_("reminded, still unpaid"), boolean=True)
    def dunning_flag(self, membership):
        """The period's invoice went through every reminder unpaid: staff follow it up."""
        invoice = membership.invoice
        return invoice is not None and invoice.flagged_at is not None and invoice.status == "issued"

    def save_model(self, request, obj, form, change):
        if change:
            changes = {name: getattr(obj, name) for name in form.changed_data}
            services.membership_update(membership=obj, changes=changes, by=request.user)
        else:
            services.membership_create(membership=obj, by=request.user)

    def delete_model(self, request, obj):
        services.membership_delete(membership=obj, by=request.user)

    def delete_queryset(self, request, queryset):
        for membership in queryset:
            services.membership_delete(membership=membership, by=request.user)

    def _each(self, request, queryset, service, done):
        run_on_selected(self, request, queryset, lambda row: service(membership=row, by=request.user), done=done)

    @admin.action(description=_("Renew for another year"), permissions=["change"])
    def renew(self, request, queryset):
        self._each(
            request,
            queryset,
            services.membership_renew,
            lambda n: ngettext("%d membership renewed.", "%d memberships renewed.", n) % n,
        )

    @admin.action(description=_("Mark as paid today"), permissions=["change"])
    def mark_paid(self, request, queryset):
        self._each(
            request,
            queryset,
            services.membership_mark_paid,
            lambda n: ngettext("%d membership marked paid.", "%d memberships marked paid.", n) % n,
        )

    @admin.action(description=_("Cancel"), permissions=["change"])
    def cancel(self, request, queryset):
        self._each(
            request,
            queryset,
            services.membership_cancel,
            lambda n: ngettext("%d membership cancelled.", "%d memberships cancelled.", n) % n,
        )


class MembershipTypeForm(forms.ModelForm):
    organisation_kinds = forms.MultipleChoiceField(
        label=_("organisation kinds that may hold it"),
        choices=Organisation.Kind.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("None chosen: any kind."),
    )
    newsletter_topics = forms.CharField(
        label=_("newsletter topics included"),
        required=False,
        help_text=_("Slugs of the newsletter topics reserved for members that this type includes, comma-separated."),
    )

    class Meta:
        model = MembershipType
        fields = [
            "slug",
            "organisation_kinds",
            "vat_category",
            "members_only_events",
            "member_seats",
            "directory_listing",
            "matchmaking",
            "newsletter_topics",
            "renews_automatically",
            "invoice_days_before",
            "cancellation_notice_days",
            "is_active",
            "ordering",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial["newsletter_topics"] = ", ".join(self.instance.newsletter_topics or [])

    def clean_newsletter_topics(self):
        slugs = [slug.strip() for slug in self.cleaned_data["newsletter_topics"].split(",") if slug.strip()]
        for slug in slugs:
            forms.SlugField().clean(slug)
        return sorted(set(slugs))


class MembershipTypeFeeInline(admin.TabularInline):
    model = MembershipTypeFee
    extra = 1
    fields = ["year", "size_band", "amount"]


@admin.register(MembershipType)
class MembershipTypeAdmin(TranslationAdmin):
    form = MembershipTypeForm
    list_display = ["name", "vat_category", "renews_automatically", "invoice_days_before", "is_active", "ordering"]
    list_filter = ["is_active", "vat_category", "renews_automatically"]
    prepopulated_fields = {"slug": ("name",)}
    inlines = [MembershipTypeFeeInline]
    fieldsets = [
        (None, {"fields": ["name", "slug", "description", "organisation_kinds", "is_active", "ordering"]}),
        (_("Money"), {"fields": ["vat_category", "renews_automatically", "invoice_days_before"]}),
        (_("Cancellation"), {"fields": ["cancellation_notice_days"]}),
        (
            _("Benefits"),
            {
                "fields": [
                    "members_only_events",
                    "member_seats",
                    "directory_listing",
                    "matchmaking",
                    "newsletter_topics",
                ]
            },
        ),
    ]


# --- Applications ---------------------------------------------------------------------------------


@admin.register(MembershipApplication)
class MembershipApplicationAdmin(admin.ModelAdmin):
    """Staff decide an application from its own page: "Approve" shows what approving creates (type, size band,
    fee, hub, period) and asks to confirm; "Reject" asks for the reason sent to the applicant. The list's bulk
    actions show the same summary first."""

    list_display = ["name", "status_badge", "cvr", "size_band", "contact_name", "contact_email", "created_at"]
    list_filter = ["status", "kind", "size_band", "region"]
    search_fields = ["name", "legal_name", "cvr", "contact_email", "contact_name"]
    actions = ["approve", "reject"]
    readonly_fields = [
        "status",
        "applicant",
        "decided_by",
        "decided_at",
        "rejection_reason",
        "organisation",
        "terms_accepted_at",
        "created_at",
    ]
    # A dozen segments read best as checkboxes; Django's two-box filter widget also fails axe-core
    # (aria-label on a span without a role).
    formfield_overrides = {models.ManyToManyField: {"widget": forms.CheckboxSelectMultiple}}
    list_select_related = ["region"]
    change_form_template = "admin/members/membershipapplication/change_form.html"

    def has_add_permission(self, request):
        return False

    def get_urls(self):
        decide = [
            path(
                "<path:object_id>/approve/",
                self.admin_site.admin_view(partial(admin_views.application_approve, self)),
                name="members_membershipapplication_approve",
            ),
            path(
                "<path:object_id>/reject/",
                self.admin_site.admin_view(partial(admin_views.application_reject, self)),
                name="members_membershipapplication_reject",
            ),
        ]
        return decide + super().get_urls()

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, application):
        return format_html(
            '<span class="status-badge status-{}">{}</span>', application.status, application.get_status_display()
        )

    @admin.action(description=_("Approve: create the member organisation"), permissions=["change"])
    def approve(self, request, queryset):
        if request.POST.get("confirm") != "yes":
            return admin_views.approve_summary(self, request, list(queryset.select_related("region")), single=False)
        run_on_selected(
            self,
            request,
            queryset,
            lambda application: services.application_approve(application=application, approved_by=request.user),
            done=lambda n: ngettext("%d application approved.", "%d applications approved.", n) % n,
        )
        return None

    @admin.action(description=_("Reject with a reason"), permissions=["change"])
    def reject(self, request, queryset):
        form = admin_views.RejectionForm(request.POST if "reason" in request.POST else None)
        if not form.is_valid():
            return admin_views.reject_page(self, request, queryset, form, single=False)
        run_on_selected(
            self,
            request,
            queryset,
            lambda application: services.application_reject(
                application=application, rejected_by=request.user, reason=form.cleaned_data["reason"]
            ),
            done=lambda n: ngettext("%d application rejected.", "%d applications rejected.", n) % n,
        )
        return None


# --- Invitations, reference data ------------------------------------------------------------------


@admin.register(Invitation)
class InvitationAdmin(HubScopedAdminMixin, admin.ModelAdmin):
    hub_lookup = "organisation__hub"
    list_display = ["email", "organisation", "role", "status", "invited_by", "created_at"]
    list_filter = ["status", "role"]
    search_fields = ["email", "organisation__name"]
    list_select_related = ["organisation", "invited_by"]
    readonly_fields = ["organisation", "email", "role", "status", "invited_by", "accepted_by", "decided_at"]

    def has_add_permission(self, request):
        return False


@admin.register(Segment)
class SegmentAdmin(TranslationAdmin):
    list_display = ["name", "code", "ordering"]


@admin.register(Tag)
class TagAdmin(TranslationAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ("name_en",)}


@admin.register(Partner)
class PartnerAdmin(CheckedAutocompleteMixin, TranslationAdmin):
    list_display = ["name", "short_name", "kind", "role", "partner_since"]
    list_filter = ["kind", "role"]
    search_fields = ["name", "short_name"]
    autocomplete_fields = ["organisation"]
    formfield_overrides = ACCESSIBLE_FORMFIELDS
