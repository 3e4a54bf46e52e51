"""A person's own account: the portal page and their profile."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.forms import ProfileForm
from accounts.portal import portal_sections


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
