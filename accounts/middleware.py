"""Staff reach the admin only with a second factor: without one they are sent to set up TOTP first."""

from functools import wraps

from allauth.mfa.models import Authenticator
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _


def staff_without_mfa(user) -> bool:
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_staff
        and not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    )


STAFF_MFA_NEXT = "staff_mfa_next"


def staff_mfa_setup_redirect(request):
    messages.warning(request, _("Staff must set up two-factor authentication before using the admin."))
    # Remembered so that activating TOTP leads back here instead of to allauth's own MFA page.
    request.session[STAFF_MFA_NEXT] = request.get_full_path()
    return redirect("mfa_activate_totp")


def staff_mfa_required(view):
    """For staff pages outside the admin (the door check-in): the same second-factor rule as the admin."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if staff_without_mfa(request.user):
            return staff_mfa_setup_redirect(request)
        return view(request, *args, **kwargs)

    return wrapped


class StaffMfaRequiredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info.startswith(self._admin_prefix()) and staff_without_mfa(getattr(request, "user", None)):
            return staff_mfa_setup_redirect(request)
        response = self.get_response(request)
        if self._totp_just_activated(request, response) and STAFF_MFA_NEXT in request.session:
            messages.success(
                request,
                _(
                    "Two-factor authentication is on. "
                    "Your recovery codes are under My account, Two-factor authentication."
                ),
            )
            return redirect(request.session.pop(STAFF_MFA_NEXT))
        return response

    @staticmethod
    def _totp_just_activated(request, response) -> bool:
        match = getattr(request, "resolver_match", None)
        return bool(
            request.method == "POST"
            and response.status_code == 302
            and match is not None
            and match.url_name == "mfa_activate_totp"
        )

    @staticmethod
    def _admin_prefix():
        return reverse("admin:index")


class AllauthErrorStatusMiddleware:
    """allauth answers bad input with a page and status 200; the portal answers it with a 4xx.

    Only allauth's own views are touched, and only on the signals allauth itself puts in the template context:
    a POSTed form that has errors (400, or 429 when the error is allauth's login throttle), a password reset
    link whose token failed (400), and an email confirmation key that matches nothing (404)."""

    THROTTLE_CODES = frozenset({"too_many_login_attempts"})

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code != 200:
            return response
        match = getattr(request, "resolver_match", None)
        context = getattr(response, "context_data", None)
        if match is None or not context or not match.func.__module__.startswith("allauth."):
            return response
        status = self._status_for(request, match.url_name, context)
        if status is not None:
            response.status_code = status
        return response

    def _status_for(self, request, url_name, context) -> int | None:
        if context.get("token_fail"):
            return 400
        if url_name == "account_confirm_email" and context.get("confirmation") is None:
            return 404
        if request.method != "POST":
            return None
        invalid_forms = [
            value
            for value in context.values()
            if hasattr(value, "is_bound") and hasattr(value, "errors") and value.is_bound and value.errors
        ]
        if not invalid_forms:
            return None
        codes = {error.code for form in invalid_forms for errors in form.errors.as_data().values() for error in errors}
        return 429 if codes & self.THROTTLE_CODES else 400


class NulCharacterRefusedMiddleware:
    """A NUL character anywhere in the path, a query or form parameter is refused with a translated 400, for every
    view at once: PostgreSQL can neither store nor compare one, so a view that passed it on answered 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self._has_nul(request):
            message = _("The request contained a null character (NUL), which is not allowed.")
            return render(request, "400.html", {"error_message": message}, status=400)
        return self.get_response(request)

    @staticmethod
    def _has_nul(request) -> bool:
        if "\x00" in request.path_info:
            return True
        parameters = [request.GET]
        if request.method == "POST" and request.content_type in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            parameters.append(request.POST)
        return any(
            "\x00" in key or any("\x00" in value for value in values if isinstance(value, str))
            for query in parameters
            for key, values in query.lists()
        )
