"""The membership applications' own admin pages: approve (a summary of what approving creates, then the decision)
and reject (the reason sent to the applicant). `MembershipApplicationAdmin.get_urls` wires them; its bulk actions
show the same summary and form."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from common.errors import DomainError
from members import services
from members.models import MembershipApplication


class RejectionForm(forms.Form):
    reason = forms.CharField(label=_("Reason (sent to the applicant)"), widget=forms.Textarea, max_length=2000)


def _change_url(object_id) -> str:
    return reverse("admin:members_membershipapplication_change", args=[object_id])


def _decidable(model_admin, request, object_id):
    """The pending application the user may change; 404 for none, 403 without permission. None (with a message)
    when it has been decided already."""
    application = model_admin.get_object(request, object_id)
    if application is None:
        raise Http404
    if not model_admin.has_change_permission(request, application):
        raise PermissionDenied
    if application.status != MembershipApplication.Status.PENDING:
        model_admin.message_user(
            request,
            _("%(name)s has already been decided (%(status)s).")
            % {"name": application.name, "status": application.get_status_display()},
            messages.WARNING,
        )
        return None
    return application


def approve_summary(model_admin, request, applications, *, single: bool) -> TemplateResponse:
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
            **model_admin.admin_site.each_context(request),
            "title": _("Approve the application") if single else _("Approve applications"),
            "opts": model_admin.model._meta,
            "rows": rows,
            "single": single,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        },
    )


def reject_page(model_admin, request, applications, form, *, single: bool, status: int = 200) -> TemplateResponse:
    return TemplateResponse(
        request,
        "admin/members/membershipapplication/reject.html",
        {
            **model_admin.admin_site.each_context(request),
            "title": _("Reject the application") if single else _("Reject applications"),
            "opts": model_admin.model._meta,
            "applications": applications,
            "form": form,
            "single": single,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        },
        status=status,
    )


def application_approve(model_admin, request, object_id):
    application = _decidable(model_admin, request, object_id)
    if application is None:
        return redirect(_change_url(object_id))
    if request.method != "POST":
        return approve_summary(model_admin, request, [application], single=True)
    try:
        organisation = services.application_approve(application=application, approved_by=request.user)
    except DomainError as exc:
        model_admin.message_user(request, f"{application}: {exc}", messages.ERROR)
        return redirect(_change_url(application.pk))
    model_admin.message_user(
        request,
        _("%(name)s is approved: the member organisation and its membership were created.")
        % {"name": application.name},
        messages.SUCCESS,
    )
    return redirect(reverse("admin:members_organisation_change", args=[organisation.pk]))


def application_reject(model_admin, request, object_id):
    application = _decidable(model_admin, request, object_id)
    if application is None:
        return redirect(_change_url(object_id))
    form = RejectionForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        services.application_reject(
            application=application, rejected_by=request.user, reason=form.cleaned_data["reason"]
        )
        model_admin.message_user(
            request, _("%(name)s is rejected; the applicant is told why.") % {"name": application.name}
        )
        return redirect(_change_url(application.pk))
    return reject_page(model_admin, request, [application], form, single=True, status=400 if form.is_bound else 200)
