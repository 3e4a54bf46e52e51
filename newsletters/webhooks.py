"""The mail provider's bounce and complaint webhooks (django-anymail), mounted under /webhooks/anymail/.

Only tracking webhooks that authenticate with ANYMAIL_WEBHOOK_SECRET alone are mounted: anymail's full URL list
also brings inbound-mail and key-signed webhooks, which answer every request with a 500 until their own keys are
set. Without a secret the webhooks answer 404, because an unauthenticated one would let anyone mark subscribers
as bounced."""

from functools import wraps

from anymail.webhooks.brevo import BrevoTrackingWebhookView
from anymail.webhooks.mailjet import MailjetTrackingWebhookView
from anymail.webhooks.postmark import PostmarkTrackingWebhookView
from anymail.webhooks.sparkpost import SparkPostTrackingWebhookView
from django.conf import settings
from django.http import Http404
from django.urls import path


def secret_required(view):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not settings.ANYMAIL.get("WEBHOOK_SECRET"):
            raise Http404("webhooks are off until ANYMAIL_WEBHOOK_SECRET is set")
        return view(request, *args, **kwargs)

    return wrapped


urlpatterns = [
    path("brevo/tracking/", secret_required(BrevoTrackingWebhookView.as_view()), name="brevo_tracking_webhook"),
    path("mailjet/tracking/", secret_required(MailjetTrackingWebhookView.as_view()), name="mailjet_tracking_webhook"),
    path(
        "postmark/tracking/", secret_required(PostmarkTrackingWebhookView.as_view()), name="postmark_tracking_webhook"
    ),
    path(
        "sparkpost/tracking/",
        secret_required(SparkPostTrackingWebhookView.as_view()),
        name="sparkpost_tracking_webhook",
    ),
]
