"""A person's own account: the portal page, their profile, their data download and account deletion."""

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from accounts.forms import AccountDeleteForm, ProfileForm
from accounts.personal_data import account_deletion_blockers, personal_data_collect
from accounts.personal_data_page import personal_data_page_sections
from accounts.portal import portal_sections
from accounts.services import AccountDeletionBlocked, user_delete


@login_required
def portal(request):
    return render(request, "accounts/portal.html", {"sections": portal_sections(request)})


@login_required
def profile_edit(request):
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST":
        if form.is_valid():
            user = form.save()
            # The portal answers in the language the person just chose, so the choice shows at once.
            with translation.override(user.preferred_language):
                messages.success(request, _("Your profile was saved."))
                return redirect(reverse("accounts:portal"))
        return render(request, "accounts/profile_form.html", {"form": form}, status=400)
    return render(request, "accounts/profile_form.html", {"form": form})


@never_cache
@login_required
def personal_data_download(request):
    data = personal_data_collect(user=request.user)
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False, "indent": 2})
    response["Content-Disposition"] = 'attachment; filename="dlsc-personal-data.json"'
    return response


@never_cache
@login_required
def personal_data_page(request):
    """The same data as the download, readable, in the person's own language whatever the address says."""
    data = personal_data_collect(user=request.user)
    with translation.override(request.user.preferred_language):
        return render(request, "accounts/personal_data.html", {"sections": personal_data_page_sections(data=data)})


@login_required
def account_delete(request):
    blockers = account_deletion_blockers(user=request.user)
    form = AccountDeleteForm(request.POST or None, user=request.user)
    context = {"form": form, "blockers": blockers}
    if request.method == "POST":
        if blockers:
            return render(request, "accounts/account_delete.html", context, status=409)
        if not form.is_valid():
            return render(request, "accounts/account_delete.html", context, status=400)
        try:
            user_delete(user=request.user)
        except AccountDeletionBlocked as blocked:  # someone changed the roles since the page was shown
            context["blockers"] = blocked.messages
            return render(request, "accounts/account_delete.html", context, status=409)
        logout(request)
        messages.success(request, _("Your account and your personal data were deleted."))
        return redirect("home")
    return render(request, "accounts/account_delete.html", context)
