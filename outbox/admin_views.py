"""The outbox admin's own page, wired by OutboxMessageAdmin.get_urls: a mail's HTML part alone, for the frame on
the mail's page."""

from urllib.parse import urlsplit

from django.conf import settings
from django.http import Http404, HttpResponse
from django.utils.csp import CSP, build_policy


def mail_frame_policy() -> dict:
    """The CSP of a mail's HTML part, shown in a frame: mails carry inline styles and their own images, never a
    script, a form or a font from elsewhere, and only the admin itself may frame them."""
    site = urlsplit(settings.SITE_URL)
    return {
        "default-src": [CSP.NONE],
        "img-src": [CSP.SELF, "data:", f"{site.scheme}://{site.netloc}"],
        "style-src": [CSP.UNSAFE_INLINE],
        "frame-ancestors": [CSP.SELF],
        "form-action": [CSP.NONE],
        "base-uri": [CSP.NONE],
    }


def message_html(model_admin, request, pk):
    """The HTML part alone, under a CSP of its own that the site's policy never has to weaken for: the frame is
    sandboxed as well, so nothing in a mail runs."""
    message = model_admin.get_object(request, str(pk))
    if message is None or not message.body_html:
        raise Http404
    response = HttpResponse(message.body_html, content_type="text/html; charset=utf-8")
    response.headers[str(CSP.HEADER_ENFORCE)] = build_policy(mail_frame_policy())
    return response
