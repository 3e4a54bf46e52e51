"""Public newsletter pages: subscribe, confirm, one-click unsubscribe, preferences, the archive and its feed."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.syndication.views import Feed
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from accounts.portal import portal_sections
from accounts.ratelimit import client_ip, ratelimit_consume
from newsletters import campaigns, selectors, subscriptions
from newsletters.consent import CONSENT_TEXT_VERSION
from newsletters.forms import AccountTopicsForm, PreferencesForm, SubscribeForm
from newsletters.models import ConsentRecord, Subscriber


def _bad_link(request):
    return render(request, "newsletters/bad_link.html", status=400)


@require_http_methods(["GET", "POST"])
def subscribe(request):
    if request.method == "GET":
        initial = {"language": translation.get_language()}
        return render(request, "newsletters/subscribe.html", {"form": SubscribeForm(initial=initial)})
    limit, period = settings.NEWSLETTER_SUBSCRIBE_RATE
    if not ratelimit_consume(request=request, action="newsletter-subscribe", limit=limit, period=period):
        return render(request, "newsletters/rate_limited.html", status=429)
    form = SubscribeForm(request.POST)
    if not form.is_valid():
        return render(request, "newsletters/subscribe.html", {"form": form}, status=400)
    if not form.cleaned_data["website"]:
        try:
            subscriptions.subscription_request(
                email=form.cleaned_data["email"],
                name=form.cleaned_data["name"],
                language=form.cleaned_data["language"],
                topics=list(form.cleaned_data["topics"]),
                source=ConsentRecord.Source.FORM,
                ip_address=client_ip(request),
                consent_text_version=form.cleaned_data["consent_text_version"],
            )
        except ValidationError:
            form.add_error("email", _("Enter a valid email address."))
            return render(request, "newsletters/subscribe.html", {"form": form}, status=400)
    # The same page whether the address is new, pending, subscribed, or a bot's: nothing to learn from it.
    return render(request, "newsletters/subscribe_thanks.html")


@require_http_methods(["GET", "POST"])
def confirm(request, token):
    if request.method == "GET":
        # Mail scanners follow links: confirming takes a click on the page's button.
        try:
            subscriptions.subscriber_from_token(
                token=token, salt=subscriptions.CONFIRM_SALT, max_age=settings.NEWSLETTER_CONFIRM_MAX_AGE
            )
        except subscriptions.BadToken:
            return _bad_link(request)
        return render(request, "newsletters/confirm.html", {"token": token})
    try:
        subscriber = subscriptions.subscription_confirm(token=token, ip_address=client_ip(request))
    except subscriptions.BadToken:
        return _bad_link(request)
    links = subscriptions.subscriber_links(subscriber=subscriber)
    return render(request, "newsletters/confirmed.html", {"preferences_url": links["preferences_url"]})


@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token):
    """RFC 8058: a POST (the mailbox provider's one-click, body "List-Unsubscribe=One-Click", or the page's
    button) unsubscribes at once, authenticated by the signed token alone. A GET only shows the button."""
    try:
        subscriber = subscriptions.subscriber_from_token(token=token, salt=subscriptions.UNSUBSCRIBE_SALT)
    except subscriptions.BadToken:
        return _bad_link(request)
    if request.method == "GET":
        return render(request, "newsletters/unsubscribe.html", {"token": token, "subscriber": subscriber})
    subscriptions.subscriber_unsubscribe(
        subscriber=subscriber, source=ConsentRecord.Source.EMAIL_LINK, ip_address=client_ip(request)
    )
    return render(request, "newsletters/unsubscribed.html", {"subscriber": subscriber})


@require_http_methods(["GET", "POST"])
def preferences(request, token):
    try:
        subscriber = subscriptions.subscriber_from_token(token=token, salt=subscriptions.PREFERENCES_SALT)
    except subscriptions.BadToken:
        return _bad_link(request)
    unsubscribe_token = subscriptions.subscriber_token(subscriber=subscriber, salt=subscriptions.UNSUBSCRIBE_SALT)
    context = {"subscriber": subscriber, "unsubscribe_token": unsubscribe_token}
    topic_access = {"user": subscriber.user, "kept": list(subscriber.topics.values_list("slug", flat=True))}
    if request.method == "GET":
        initial = {"language": subscriber.language, "topics": list(subscriber.topics.all())}
        form = PreferencesForm(initial=initial, **topic_access)
        return render(request, "newsletters/preferences.html", {**context, "form": form})
    form = PreferencesForm(request.POST, **topic_access)
    if not form.is_valid():
        return render(request, "newsletters/preferences.html", {**context, "form": form}, status=400)
    if subscriber.status not in (Subscriber.Status.CONFIRMED, Subscriber.Status.UNSUBSCRIBED):
        return _bad_link(request)
    if subscriber.status == Subscriber.Status.UNSUBSCRIBED and form.cleaned_data["topics"]:
        # Coming back needs a fresh, confirmed opt-in; topics alone do not resubscribe anyone.
        subscriptions.subscription_request(
            email=subscriber.email,
            name=subscriber.name,
            language=form.cleaned_data["language"],
            topics=list(form.cleaned_data["topics"]),
            source=ConsentRecord.Source.EMAIL_LINK,
            ip_address=client_ip(request),
            consent_text_version=CONSENT_TEXT_VERSION,
        )
        messages.success(request, _("We have sent you an email: confirm there to receive newsletters again."))
        return redirect(request.path)
    subscriptions.subscriber_preferences_update(
        subscriber=subscriber,
        language=form.cleaned_data["language"],
        topics=list(form.cleaned_data["topics"]),
        source=ConsentRecord.Source.EMAIL_LINK,
        ip_address=client_ip(request),
    )
    messages.success(request, _("Your newsletter preferences were saved."))
    return redirect(request.path)


def portal_section_context(request) -> dict:
    subscriber = selectors.account_subscription(user=request.user)
    active = subscriber is not None and subscriber.status == Subscriber.Status.CONFIRMED
    initial = {"topics": list(subscriber.topics.all()) if active else []}
    kept = list(subscriber.topics.values_list("slug", flat=True)) if active else []
    form = AccountTopicsForm(initial=initial, user=request.user, kept=kept)
    return {"form": form, "subscriber": subscriber, "subscribed": active}


@login_required
@require_POST
def account_topics(request):
    subscriber = selectors.account_subscription(user=request.user)
    kept = list(subscriber.topics.values_list("slug", flat=True)) if subscriber is not None else []
    form = AccountTopicsForm(request.POST, user=request.user, kept=kept)
    if not form.is_valid():
        messages.error(request, _("Please choose among the topics listed."))
        return render(request, "accounts/portal.html", {"sections": portal_sections(request)}, status=400)
    subscriber = subscriptions.account_subscription_update(
        user=request.user, topics=list(form.cleaned_data["topics"]), ip_address=client_ip(request)
    )
    if subscriber is not None and subscriber.status == Subscriber.Status.CONFIRMED:
        messages.success(request, _("Your newsletter topics were saved."))
    else:
        messages.success(request, _("You receive no newsletters."))
    return redirect("accounts:portal")


def archive(request):
    page = Paginator(selectors.archive_campaigns(), 20).get_page(request.GET.get("page"))
    return render(request, "newsletters/archive.html", {"page": page})


def archive_detail(request, pk):
    campaign = selectors.archive_campaign(pk=pk)
    if campaign is None:
        raise Http404
    content = campaigns.campaign_content(campaign=campaign, language=translation.get_language())
    return render(request, "newsletters/archive_detail.html", {"campaign": campaign, "content": content})


class ArchiveFeed(Feed):
    feed_type = Atom1Feed
    title = gettext_lazy("Danish Life Science Cluster: newsletter")
    subtitle = gettext_lazy("Newsletters sent by the Danish Life Science Cluster.")

    def link(self):
        return reverse("newsletters:archive")

    def items(self):
        return selectors.archive_campaigns()[:30]

    def item_title(self, item):
        return campaigns.campaign_content(campaign=item, language=translation.get_language())["subject"]

    def item_description(self, item):
        return campaigns.campaign_content(campaign=item, language=translation.get_language())["body_html"]

    def item_pubdate(self, item):
        return item.finished_at

    def item_updateddate(self, item):
        return item.finished_at
