"""Public member pages (directory, organisation, partners, applying) and the company admin's pages.
Views stay thin: forms check input, services write, selectors read and scope."""

from datetime import timedelta
from functools import partial

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import User
from accounts.ratelimit import ratelimit_consume
from common import exports
from common.csrf import csrf_token_fill, csrf_token_mark
from members import selectors, services
from members.directory import (
    DirectoryCache,
    DirectoryFilters,
    directory_facets,
    directory_listing,
    directory_organisation,
)
from members.forms import (
    ApplicationForm,
    BillingDetailsForm,
    DirectoryFilterForm,
    InvitationSignupForm,
    InviteForm,
    NextPeriodForm,
    OrganisationProfileForm,
    RoleChangeForm,
    fee_with_vat_display,
)
from members.models import Invitation, Organisation, OrganisationRole

APPLY_RATE_LIMIT = 10  # applications per IP address per hour


def directory(request):
    # Anonymous visitors all see the same page for the same query, so it is stored whole. So do signed-in members
    # with no message waiting, but for the CSRF token of the header's logout form: their page is stored with a marker
    # in its place. Anyone else gets the page rendered around the stored listing. Only a listing not stored yet
    # needs the form.
    visitor = _directory_visitor(request)
    cached = DirectoryCache(params=request.GET, language=get_language(), visitor=visitor)
    if cached.get("page") is not None:
        return HttpResponse(csrf_token_fill(cached.get("page"), request))
    fresh = {}  # what this request renders for the cache: the listing, the whole page, or both in one round trip
    listing = cached.get("listing")
    if listing is None:
        form = DirectoryFilterForm(request.GET or None, facets=directory_facets(cached=cached))
        if request.GET and not form.is_valid():
            return render(request, "members/directory.html", {"form": form, "page": None}, status=400)
        filters = DirectoryFilters(**(form.cleaned_data if request.GET else {}))
        listing = fresh["listing"] = directory_listing(filters=filters, form=form, params=request.GET, cached=cached)
    response = render(request, "members/directory.html", {"page": listing.page, "body": listing.body})
    if visitor is not None and (page := csrf_token_mark(response.content)) is not None:
        fresh["page"] = page
    if fresh:
        cached.store(**fresh)
    return response


def _directory_visitor(request) -> str | None:
    """Whose directory page this is: "anonymous" (no account, no session and no pending messages: nothing on the
    page is the visitor's own), "member" (signed in, no pending messages: only the CSRF token is the visitor's own),
    or None (a message may be waiting: a signed-in member's, or a visitor's with a session or a messages cookie)."""
    if request.user.is_authenticated:
        return None if len(messages.get_messages(request)) else "member"
    if settings.SESSION_COOKIE_NAME not in request.COOKIES and "messages" not in request.COOKIES:
        return "anonymous"
    return None


def organisation_detail(request, slug):
    organisation = directory_organisation(slug=slug)
    return render(request, "members/organisation_detail.html", {"organisation": organisation})


def partners(request):
    return render(request, "members/partners.html", {"groups": selectors.partners_by_kind()})


def _fee_context() -> dict:
    """The offered types with their fee per size band this year, for the terms page and the application form."""
    table = selectors.membership_fee_table(year=timezone.localdate().year)
    for row in table:
        row["cells"] = [
            (label, fee_with_vat_display(row["fees"][band], row["type"]) if row["fees"][band] is not None else "–")
            for band, label in Organisation.SizeBand.choices
        ]
    return {"fee_table": table, "size_bands": Organisation.SizeBand.labels}


def terms(request):
    return render(request, "members/terms.html", _fee_context())


def apply(request):
    fee_context = _fee_context()
    form = ApplicationForm(request.POST or None, user=request.user, fee_table=fee_context["fee_table"])
    context = {"form": form, "fee_data": form.fees_for_script(), **fee_context}
    if request.method == "POST":
        if not ratelimit_consume(request=request, action="membership-apply", limit=APPLY_RATE_LIMIT, period=3600):
            messages.error(request, _("Too many applications from your network. Please try again later."))
            return render(request, "members/apply.html", context, status=429)
        if not form.is_valid():
            return render(request, "members/apply.html", context, status=400)
        data = {k: v for k, v in form.cleaned_data.items() if k in ApplicationForm.Meta.fields and k != "segments"}
        data["language"] = get_language() if get_language() in ("da", "en") else "da"
        application = services.application_submit(
            data=data,
            segments=form.cleaned_data["segments"],
            password=form.cleaned_data.get("password1"),
            user=request.user,
            request=request,
        )
        # The thanks page names the address the mail went to; it says the same whether or not that address
        # already had an account.
        request.session[APPLY_DONE_SESSION_KEY] = application.contact_email
        return redirect("members:apply_done")
    return render(request, "members/apply.html", context)


APPLY_DONE_SESSION_KEY = "members:applied-email"


def apply_done(request):
    return render(request, "members/apply_done.html", {"email": request.session.get(APPLY_DONE_SESSION_KEY, "")})


# --- A company admin's pages (every lookup goes through organisation_for_admin: foreign ids are 404) ----


@login_required
def organisation_manage(request, pk):
    organisation = selectors.organisation_for_admin(user=request.user, pk=pk)
    return _manage_page(request, organisation, InviteForm())


def _manage_page(request, organisation, invite_form, status=200):
    return render(
        request,
        "members/organisation_manage.html",
        {
            "organisation": organisation,
            "colleagues": selectors.organisation_colleagues(organisation=organisation),
            "invitations": organisation.invitations.filter(status=Invitation.Status.PENDING),
            "membership": selectors.organisation_current_membership(organisation=organisation),
            "billing_missing": not (organisation.billing_email or organisation.ean),
            "invite_form": invite_form,
            "roles": OrganisationRole.Role.choices,
        },
        status=status,
    )


@login_required
def organisation_edit(request, pk):
    organisation = selectors.organisation_for_admin(user=request.user, pk=pk)
    form = OrganisationProfileForm(request.POST or None, request.FILES or None, instance=organisation)
    if request.method == "POST":
        if not form.is_valid():
            return render(request, "members/organisation_edit.html", {"form": form}, status=400)
        if "preview" in request.POST:
            # The form has filled the unsaved instance; the page shows it as the directory would, in both languages.
            return render(
                request,
                "members/organisation_edit.html",
                {
                    "form": form,
                    "preview": form.instance,
                    "preview_segments": form.cleaned_data["segments"],
                    "logo_pending": form.logo_stash(),
                },
            )
        data, m2m = form.split()
        services.organisation_profile_update(organisation=organisation, data=data, m2m=m2m, by=request.user)
        messages.success(request, _("The profile was saved."))
        return redirect("members:manage", pk=organisation.pk)
    return render(request, "members/organisation_edit.html", {"form": form})


@login_required
@require_POST
def invite(request, pk):
    organisation = selectors.organisation_for_admin(user=request.user, pk=pk)
    form = InviteForm(request.POST)
    if not form.is_valid():
        return _manage_page(request, organisation, form, status=400)
    try:
        services.invitation_create(
            organisation=organisation,
            email=form.cleaned_data["email"],
            role=form.cleaned_data["role"],
            invited_by=request.user,
        )
    except services.MembersError as error:
        form.add_error("email", str(error))
        return _manage_page(request, organisation, form, status=400)
    messages.success(request, _("The invitation was sent to %(email)s.") % {"email": form.cleaned_data["email"]})
    return redirect("members:manage", pk=organisation.pk)


@login_required
@require_POST
def invitation_revoke(request, pk, invitation_pk):
    organisation = selectors.organisation_for_admin(user=request.user, pk=pk)
    invitation = get_object_or_404(
        Invitation, pk=invitation_pk, organisation=organisation, status=Invitation.Status.PENDING
    )
    services.invitation_revoke(invitation=invitation, by=request.user)
    messages.success(request, _("The invitation was withdrawn."))
    return redirect("members:manage", pk=organisation.pk)


def _colleague(organisation, user_pk):
    user = User.objects.filter(pk=user_pk, organisation_roles__organisation=organisation).first()
    if user is None:
        raise Http404
    return user


def _domain_action(request, organisation, action, success):
    try:
        action()
    except services.MembersError as error:
        messages.error(request, str(error))
        return _manage_page(request, organisation, InviteForm(), status=409)
    messages.success(request, success)
    return redirect("members:manage", pk=organisation.pk)


@login_required
@require_POST
def colleague_remove(request, pk, user_pk):
    organisation = selectors.organisation_for_admin(user=request.user, pk=pk)
    colleague = _colleague(organisation, user_pk)
    return _domain_action(
        request,
        organisation,
        partial(services.colleague_remove, organisation=organisation, user=colleague, by=request.user),
        _("The colleague was removed from the organisation."),
    )


@login_required
@require_POST
def colleague_role(request, pk, user_pk):
    organisation = selectors.organisation_for_admin(user=request.user, pk=pk)
    colleague = _colleague(organisation, user_pk)
    form = RoleChangeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a valid role."))
        return _manage_page(request, organisation, InviteForm(), status=400)
    service = services.role_grant if form.cleaned_data["grant"] else services.role_revoke
    action = partial(
        service, organisation=organisation, user=colleague, role=form.cleaned_data["role"], by=request.user
    )
    return _domain_action(request, organisation, action, _("The roles were changed."))


@login_required
@require_POST
def admin_hand_on(request, pk, user_pk):
    organisation = selectors.organisation_for_admin(user=request.user, pk=pk)
    colleague = _colleague(organisation, user_pk)
    return _domain_action(
        request,
        organisation,
        partial(
            services.admin_hand_on,
            organisation=organisation,
            from_user=request.user,
            to_user=colleague,
            by=request.user,
        ),
        _("%(name)s is now the organisation's admin.") % {"name": colleague},
    )


@login_required
def contacts_export(request, pk):
    organisation = selectors.organisation_for_admin(user=request.user, pk=pk)
    return exports.csv_response(
        filename=f"{organisation.slug}-colleagues.csv",
        header=[_("Name"), _("Email"), _("Roles")],
        rows=(
            [colleague["user"].full_name, colleague["user"].email, ", ".join(map(str, colleague["role_labels"]))]
            for colleague in selectors.organisation_colleagues(organisation=organisation)
        ),
    )


# --- Billing details and the membership ------------------------------------------------------------


@login_required
def billing_details(request, pk):
    organisation = selectors.organisation_for_admin(user=request.user, pk=pk)
    form = BillingDetailsForm(request.POST or None, instance=organisation)
    if request.method == "POST":
        if not form.is_valid():
            return render(
                request, "members/billing_details.html", {"form": form, "organisation": organisation}, status=400
            )
        try:
            services.organisation_billing_update(
                organisation=Organisation.objects.get(pk=organisation.pk), data=form.cleaned_data, by=request.user
            )
        except services.MembersError as error:
            form.add_error(None, str(error))
            return render(
                request, "members/billing_details.html", {"form": form, "organisation": organisation}, status=400
            )
        messages.success(request, _("The billing details were saved."))
        return redirect("members:membership", pk=organisation.pk)
    return render(request, "members/billing_details.html", {"form": form, "organisation": organisation})


def _running_membership(organisation):
    """The membership the admin acts on: the one in force today, else the latest."""
    return selectors.organisation_active_membership(
        organisation=organisation
    ) or selectors.organisation_current_membership(organisation=organisation)


def _membership_page(request, organisation, *, next_form=None, status=200):
    membership = _running_membership(organisation)
    history = selectors.organisation_membership_history(organisation=organisation)
    following = next((m for m in history if membership and m.period_start > membership.period_end), None)
    if next_form is None and membership is not None:
        next_form = NextPeriodForm(organisation=organisation, membership=membership)
    next_type, next_band = services.membership_next_terms(membership) if membership else (None, "")
    return render(
        request,
        "members/membership.html",
        {
            "organisation": organisation,
            "membership": membership,
            "following": following,
            "history": history,
            "next_form": next_form if membership and not following and not membership.cancelled_at else None,
            "next_type": next_type,
            "next_band": Organisation.SizeBand(next_band).label if next_band else "",
            "invoice_date": (
                membership.period_end - timedelta(days=membership.membership_type.invoice_days_before)
                if membership
                else None
            ),
            "can_cancel": bool(
                membership
                and membership.status == membership.Status.ACTIVE
                and not membership.cancelled_at
                and not following
                and timezone.localdate() <= membership.cancellation_deadline()
            ),
        },
        status=status,
    )


@login_required
def membership(request, pk):
    organisation = selectors.organisation_for_admin(user=request.user, pk=pk)
    return _membership_page(request, organisation)


@login_required
@require_POST
def membership_next_period(request, pk):
    organisation = selectors.organisation_for_admin(user=request.user, pk=pk)
    membership = _running_membership(organisation)
    if membership is None:
        raise Http404
    form = NextPeriodForm(request.POST, organisation=organisation, membership=membership)
    if not form.is_valid():
        return _membership_page(request, organisation, next_form=form, status=400)
    try:
        services.membership_next_period_set(
            membership=membership,
            membership_type=form.cleaned_data["membership_type"],
            size_band=form.cleaned_data["size_band"],
            by=request.user,
        )
    except services.MembersError as error:
        form.add_error(None, str(error))
        return _membership_page(request, organisation, next_form=form, status=409)
    messages.success(request, _("Your choice for the next period was saved."))
    return redirect("members:membership", pk=organisation.pk)


@login_required
@require_POST
def membership_cancel(request, pk):
    organisation = selectors.organisation_for_admin(user=request.user, pk=pk)
    membership = _running_membership(organisation)
    if membership is None:
        raise Http404
    try:
        services.membership_cancel_at_period_end(membership=membership, by=request.user)
    except services.MembersError as error:
        messages.error(request, str(error))
        return _membership_page(request, organisation, status=409)
    messages.success(request, _("The membership was cancelled: it ends at the end of the current period."))
    return redirect("members:membership", pk=organisation.pk)


# --- Invitations ----------------------------------------------------------------------------------


def invitation(request, token):
    try:
        invitation = services.invitation_from_token(token=token)
    except services.InvitationInvalid as error:
        return render(request, "members/invitation_invalid.html", {"message": str(error)}, status=400)
    account_exists = User.objects.filter(email__iexact=invitation.email).exists()
    signup_form = InvitationSignupForm(request.POST or None) if not account_exists else None
    if request.method == "POST":
        try:
            if request.user.is_authenticated:
                services.invitation_accept(invitation=invitation, user=request.user)
            elif signup_form is not None:
                if not signup_form.is_valid():
                    return render(
                        request,
                        "members/invitation.html",
                        {"invitation": invitation, "signup_form": signup_form},
                        status=400,
                    )
                user = services.invitation_accept_new_account(
                    invitation=invitation,
                    full_name=signup_form.cleaned_data["full_name"],
                    password=signup_form.cleaned_data["password1"],
                )
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            else:
                return redirect(f"{reverse('account_login')}?next={request.path}")
        except services.InvitationInvalid as error:
            return render(request, "members/invitation_invalid.html", {"message": str(error)}, status=400)
        messages.success(request, _("Welcome to %(organisation)s.") % {"organisation": invitation.organisation.name})
        return redirect("accounts:portal")
    return render(
        request,
        "members/invitation.html",
        {"invitation": invitation, "signup_form": signup_form, "account_exists": account_exists},
    )
