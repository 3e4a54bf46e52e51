"""allauth adapter: its mails go through the outbox, in the recipient's language."""

import time
from types import SimpleNamespace
from urllib.parse import urlsplit

from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.internal.flows.login import get_authentication_records
from allauth.core import context as allauth_context
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from outbox.api import mail_enqueue_rendered, mail_layout


class AccountAdapter(DefaultAccountAdapter):
    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        user = context.get("user")
        language = getattr(user, "preferred_language", None) or translation.get_language() or "da"
        # allauth's templates greet and sign off with the site's name; without django.contrib.sites that is
        # empty, so the portal names itself.
        context = {"email": email, "current_site": self.site_identity(), **context}
        with translation.override(language):
            message = self.render_mail(template_prefix, email, context)
        body_html = next(
            (content for content, mimetype in getattr(message, "alternatives", []) if mimetype == "text/html"), ""
        )
        body_text, body_html = mail_layout(
            subject=message.subject, body_text=message.body, body_html=body_html, language=language
        )
        mail_enqueue_rendered(
            template=template_prefix,
            to=email,
            language=language,
            subject=message.subject,
            body_text=body_text,
            body_html=body_html,
        )

    def get_logout_redirect_url(self, request) -> str:
        """The home page in the language of the page logged out from: a bare "/" would be redirected by the
        browser's preferred language, and the "logged out" message would appear on a page in the other one."""
        return reverse("home")

    def is_reauthentication_required(self, *, app: str, **kwargs) -> bool:
        """A person who signed in with their password moments ago is not asked for it again to add a first second
        factor: staff sent straight from login to the TOTP set-up were asked for the password twice in a row."""
        request = allauth_context.request
        if app == "allauth.mfa" and request is not None and self._first_factor_just_given(request):
            return False
        return super().is_reauthentication_required(app=app, **kwargs)

    @staticmethod
    def _first_factor_just_given(request) -> bool:
        user = request.user
        if not user.is_authenticated or Authenticator.objects.filter(user=user).exists():
            return False
        cutoff = time.time() - account_settings.REAUTHENTICATION_TIMEOUT
        return any(
            record.get("method") == "password" and record.get("at", 0) >= cutoff
            for record in get_authentication_records(request, user)
        )

    @staticmethod
    def site_identity() -> SimpleNamespace:
        return SimpleNamespace(name="Danish Life Science Cluster", domain=urlsplit(settings.SITE_URL).netloc)

    def _get_login_attempts_cache_key(self, request, **credentials) -> str:
        """The per-account lock after failed logins, keyed on the configured site: allauth keys it on the current
        site's domain, which without django.contrib.sites is the request's raw Host header, so `LOCALHOST`,
        `localhost.` or another port would each start a fresh count."""
        login = credentials.get("email", credentials.get("username", "")).lower()
        return f"{self.site_identity().domain}:{login}"

    def save_user(self, request, user, form, commit=True):
        user = super().save_user(request, user, form, commit=False)
        if request is not None and getattr(request, "LANGUAGE_CODE", None) in ("da", "en"):
            user.preferred_language = request.LANGUAGE_CODE
        if commit:
            user.save()
        return user
