"""The back office for members: organisations, applications, memberships, fees, contacts and partners.
Actions call the services; hub staff see only their hub's organisations."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Exists, OuterRef, Prefetch
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from import_export import fields, resources
from modeltranslation.admin import TranslationAdmin

from accounts.admin_autocomplete import CheckedAutocompleteMixin
from accounts.audit import audit_record
from common import exports
from hubs.scoping import HubScopedAdminMixin
from members import services
from members.models import (
    InvalidTransition,
    Invitation,
    Membership,
    MembershipApplication,
    MembershipFee,
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
    audit_record(actor=request.user, action=f"members.export.{what}", data={"rows": count})


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


class OrganisationRoleInline(CheckedAutocompleteMixin, admin.TabularInline):
    model = OrganisationRole
    extra = 0
    autocomplete_fields = ["user"]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ["status", "period_start", "period_end", "fee_dkk", "invoice_reference", "paid_on"]
    readonly_fields = ["status"]
    ordering = ["-period_end"]


@admin.register(Organisation)
class OrganisationAdmin(CheckedAutocompleteMixin, HubScopedAdminMixin, TranslationAdmin):
    list_display = ["name", "membership_status", "kind", "size_band", "hub", "city", "listed_in_directory"]
    list_filter = [MembershipStatusFilter, "kind", "size_band", "hub", "segments"]
    search_fields = ["name", "legal_name", "cvr", "city", "roles__user__email"]
    autocomplete_fields = ["offer_tags", "seek_tags"]
    filter_horizontal = ["segments"]
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
        if ("region" in form.changed_data and "hub" not in form.changed_data) or obj.hub_id is None:
            obj.hub = services.hub_for_region(obj.region) or obj.hub
        super().save_model(request, obj, form, change)
        audit_record(
            actor=request.user,
            action="members.organisation.update" if change else "members.organisation.create",
            target=obj,
            data={"fields": form.changed_data},
        )

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        services.organisation_search_refresh(organisation_ids=[form.instance.pk])

    def delete_model(self, request, obj):
        audit_record(actor=request.user, action="members.organisation.delete", target=obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for organisation in queryset:
            audit_record(actor=request.user, action="members.organisation.delete", target=organisation)
        super().delete_queryset(request, queryset)

    def save_formset(self, request, form, formset, change):
        # Role and membership rows edited inline leave the same audit trail as the services do.
        instances = formset.save(commit=False)
        for deleted in formset.deleted_objects:
            audit_record(actor=request.user, action=f"members.{deleted._meta.model_name}.delete", target=deleted)
            deleted.delete()
        for instance in instances:
            created = instance.pk is None
            instance.save()
            audit_record(
                actor=request.user,
                action=f"members.{instance._meta.model_name}.{'create' if created else 'update'}",
                target=instance,
            )
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
        super().save_model(request, obj, form, change)
        audit_record(
            actor=request.user,
            action="members.role.update" if change else "members.role.grant",
            target=obj.organisation,
            data={"user_id": obj.user_id, "role": obj.role},
        )

    def delete_model(self, request, obj):
        audit_record(
            actor=request.user,
            action="members.role.revoke",
            target=obj.organisation,
            data={"user_id": obj.user_id, "role": obj.role},
        )
        super().delete_model(request, obj)

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


@admin.register(Membership)
class MembershipAdmin(CheckedAutocompleteMixin, HubScopedAdminMixin, admin.ModelAdmin):
    hub_lookup = "organisation__hub"
    list_display = ["organisation", "status_badge", "period_start", "period_end", "fee_dkk", "paid_on"]
    list_filter = ["status", "period_end", "organisation__hub"]
    search_fields = ["organisation__name", "organisation__cvr", "invoice_reference"]
    autocomplete_fields = ["organisation"]
    list_select_related = ["organisation"]
    date_hierarchy = "period_end"
    actions = ["renew", "mark_paid", "cancel"]

    def get_readonly_fields(self, request, obj=None):
        # Status moves only through the actions, which check the transition and leave an audit row.
        return ["status", "paid_on"] if obj is not None else ["status"]

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, membership):
        return format_html(
            '<span class="status-badge status-{}">{}</span>', membership.status, membership.get_status_display()
        )

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        audit_record(
            actor=request.user,
            action="members.membership.update" if change else "members.membership.create",
            target=obj,
            data={"fields": form.changed_data},
        )

    def _each(self, request, queryset, service, done_message):
        done = 0
        for membership in queryset:
            try:
                service(membership=membership, by=request.user)
            except (InvalidTransition, services.MembersError) as exc:
                self.message_user(request, f"{membership}: {exc}", messages.WARNING)
                continue
            done += 1
        if done:
            self.message_user(request, done_message(done), messages.SUCCESS)

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


@admin.register(MembershipFee)
class MembershipFeeAdmin(admin.ModelAdmin):
    list_display = ["size_band", "annual_fee_dkk"]


# --- Applications ---------------------------------------------------------------------------------


class RejectionForm(forms.Form):
    reason = forms.CharField(label=_("Reason (sent to the applicant)"), widget=forms.Textarea, max_length=2000)


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
                self.admin_site.admin_view(self.approve_view),
                name="members_membershipapplication_approve",
            ),
            path(
                "<path:object_id>/reject/",
                self.admin_site.admin_view(self.reject_view),
                name="members_membershipapplication_reject",
            ),
        ]
        return decide + super().get_urls()

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, application):
        return format_html(
            '<span class="status-badge status-{}">{}</span>', application.status, application.get_status_display()
        )

    # --- Deciding one application from its page ---

    def _decidable(self, request, object_id):
        """The pending application the user may change; 404 for none, 403 without permission. None (with a
        message) when it has been decided already."""
        application = self.get_object(request, object_id)
        if application is None:
            raise Http404
        if not self.has_change_permission(request, application):
            raise PermissionDenied
        if application.status != MembershipApplication.Status.PENDING:
            self.message_user(
                request,
                _("%(name)s has already been decided (%(status)s).")
                % {"name": application.name, "status": application.get_status_display()},
                messages.WARNING,
            )
            return None
        return application

    def _change_url(self, application):
        return reverse("admin:members_membershipapplication_change", args=[application.pk])

    def approve_view(self, request, object_id):
        application = self._decidable(request, object_id)
        if application is None:
            return redirect(reverse("admin:members_membershipapplication_change", args=[object_id]))
        if request.method != "POST":
            return self._approve_summary(request, [application], single=True)
        try:
            organisation = services.application_approve(application=application, approved_by=request.user)
        except (InvalidTransition, services.MembersError) as exc:
            self.message_user(request, f"{application}: {exc}", messages.ERROR)
            return redirect(self._change_url(application))
        self.message_user(
            request,
            _("%(name)s is approved: the member organisation and its membership were created.")
            % {"name": application.name},
            messages.SUCCESS,
        )
        return redirect(reverse("admin:members_organisation_change", args=[organisation.pk]))

    def reject_view(self, request, object_id):
        application = self._decidable(request, object_id)
        if application is None:
            return redirect(reverse("admin:members_membershipapplication_change", args=[object_id]))
        form = RejectionForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            services.application_reject(
                application=application, rejected_by=request.user, reason=form.cleaned_data["reason"]
            )
            self.message_user(
                request, _("%(name)s is rejected; the applicant is told why.") % {"name": application.name}
            )
            return redirect(self._change_url(application))
        return self._reject_form(request, [application], form, single=True, status=400 if form.is_bound else 200)

    def _approve_summary(self, request, applications, *, single):
        rows = [
            {
                "application": application,
                "kind": application.get_kind_display(),
                "size_band": application.get_size_band_display(),
                **services.application_membership_terms(application=application),
            }
            for application in applications
        ]
        return TemplateResponse(
            request,
            "admin/members/membershipapplication/approve.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Approve the application") if single else _("Approve applications"),
                "opts": self.model._meta,
                "rows": rows,
                "single": single,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )

    def _reject_form(self, request, applications, form, *, single, status=200):
        return TemplateResponse(
            request,
            "admin/members/membershipapplication/reject.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Reject the application") if single else _("Reject applications"),
                "opts": self.model._meta,
                "applications": applications,
                "form": form,
                "single": single,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
            status=status,
        )

    # --- Bulk actions from the list: a summary first, then the decision ---

    @admin.action(description=_("Approve: create the member organisation"), permissions=["change"])
    def approve(self, request, queryset):
        if request.POST.get("confirm") != "yes":
            return self._approve_summary(request, list(queryset.select_related("region")), single=False)
        approved = 0
        for application in queryset:
            try:
                services.application_approve(application=application, approved_by=request.user)
            except (InvalidTransition, services.MembersError) as exc:
                self.message_user(request, f"{application}: {exc}", messages.WARNING)
                continue
            approved += 1
        if approved:
            self.message_user(
                request,
                ngettext("%d application approved.", "%d applications approved.", approved) % approved,
                messages.SUCCESS,
            )
        return None

    @admin.action(description=_("Reject with a reason"), permissions=["change"])
    def reject(self, request, queryset):
        form = RejectionForm(request.POST if "reason" in request.POST else None)
        if form.is_valid():
            rejected = 0
            for application in queryset:
                try:
                    services.application_reject(
                        application=application, rejected_by=request.user, reason=form.cleaned_data["reason"]
                    )
                except InvalidTransition as exc:
                    self.message_user(request, f"{application}: {exc}", messages.WARNING)
                    continue
                rejected += 1
            if rejected:
                self.message_user(
                    request,
                    ngettext("%d application rejected.", "%d applications rejected.", rejected) % rejected,
                    messages.SUCCESS,
                )
            return None
        return self._reject_form(request, queryset, form, single=False)


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


class DirectoryOptionAdminMixin:
    """Segments and tags are the directory's filter options and card badges: a change drops its cached parts."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)


@admin.register(Segment)
class SegmentAdmin(DirectoryOptionAdminMixin, TranslationAdmin):
    list_display = ["name", "code", "ordering"]


@admin.register(Tag)
class TagAdmin(DirectoryOptionAdminMixin, TranslationAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ("name_en",)}


@admin.register(Partner)
class PartnerAdmin(CheckedAutocompleteMixin, TranslationAdmin):
    list_display = ["name", "short_name", "kind", "role", "partner_since"]
    list_filter = ["kind", "role"]
    search_fields = ["name", "short_name"]
    autocomplete_fields = ["organisation"]
