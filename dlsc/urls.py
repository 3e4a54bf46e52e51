"""URL wiring: language-prefixed pages under /da/ and /en/, plus a few unprefixed endpoints."""

from allauth.account.decorators import secure_admin_login
from anymail.webhooks.brevo import BrevoTrackingWebhookView
from anymail.webhooks.mailjet import MailjetTrackingWebhookView
from anymail.webhooks.postmark import PostmarkTrackingWebhookView
from anymail.webhooks.sparkpost import SparkPostTrackingWebhookView
from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from dlsc import views

# The admin's own login form is bypassed: staff log in through allauth, so its rate limits and MFA apply.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    # Bounce and complaint events from the mail provider (django-anymail), outside the language prefix. Only the
    # tracking webhooks that authenticate with ANYMAIL_WEBHOOK_SECRET alone: anymail's full URL list also mounts
    # inbound-mail and key-signed webhooks, which answer any request with a 500 until their own keys are set.
    path("webhooks/anymail/brevo/tracking/", BrevoTrackingWebhookView.as_view(), name="brevo_tracking_webhook"),
    path("webhooks/anymail/mailjet/tracking/", MailjetTrackingWebhookView.as_view(), name="mailjet_tracking_webhook"),
    path(
        "webhooks/anymail/postmark/tracking/", PostmarkTrackingWebhookView.as_view(), name="postmark_tracking_webhook"
    ),
    path(
        "webhooks/anymail/sparkpost/tracking/",
        SparkPostTrackingWebhookView.as_view(),
        name="sparkpost_tracking_webhook",
    ),
    path("favicon.ico", RedirectView.as_view(url=settings.STATIC_URL + "img/favicon.svg", permanent=True)),
]

urlpatterns += i18n_patterns(
    path("", views.home, name="home"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("account/", include("accounts.urls")),
    path("hubs/", include("hubs.urls")),
    path("members/", include("members.urls")),
    path("events/", include("events.urls")),
    path("matchmaking/", include("events.matchmaking.urls")),
    path("newsletter/", include("newsletters.urls")),
    prefix_default_language=True,
)
