"""The newsletter admin's own pages, wired by the ModelAdmins' get_urls: a subscriber's consent ledger as CSV, the
subscriber import, and a campaign's preview, schedule, send confirmation and controls (test, pause, resume,
unschedule). Each takes the ModelAdmin first, for its permissions, messages and admin context."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from common import exports
from newsletters import campaigns, selectors, subscriptions
from newsletters.forms import CampaignScheduleForm, CampaignSendForm, ImportForm
from newsletters.models import Campaign, InvalidTransition

# --- Subscribers ----------------------------------------------------------------------------------------------------


def subscriber_consent_export(model_admin, request, pk):
    subscriber = model_admin.get_object(request, str(pk))
    if subscriber is None:
        raise Http404
    return exports.csv_response(
        filename=f"consent-{subscriber.pk}.csv",
        header=selectors.CONSENT_EXPORT_FIELDS,
        rows=selectors.consent_export_rows(subscriber=subscriber),
    )


def subscribers_import(model_admin, request):
    if not model_admin.has_change_permission(request):
        raise PermissionDenied
    form = ImportForm(request.POST or None, request.FILES or None)
    errors, status = [], 200
    if request.method == "POST":
        if form.is_valid():
            try:
                result = subscriptions.subscribers_import(
                    csv_text=form.cleaned_data["file"],
                    topics=list(form.cleaned_data["topics"]),
                    consented_at=form.cleaned_data["consented_at"],
                    source_note=form.cleaned_data["source_note"],
                    consent_text_version=form.cleaned_data["consent_text_version"],
                    actor=request.user,
                )
            except subscriptions.ImportRejected as exc:
                errors = exc.errors
            else:
                model_admin.message_user(
                    request,
                    _("Imported: %(created)d new and %(updated)d existing subscribers.")
                    % {"created": result.created, "updated": result.updated},
                    messages.SUCCESS,
                )
                return redirect("admin:newsletters_subscriber_changelist")
        status = 400
    context = {
        **model_admin.admin_site.each_context(request),
        "title": _("Import subscribers"),
        "form": form,
        "errors": errors,
        "opts": model_admin.model._meta,
    }
    return TemplateResponse(request, "admin/newsletters/subscriber/import.html", context, status=status)


# --- Campaigns ------------------------------------------------------------------------------------------------------


def _campaign(model_admin, request, pk, *, change: bool = False) -> Campaign:
    campaign = model_admin.get_object(request, str(pk))
    if campaign is None:
        raise Http404
    if change and not model_admin.has_change_permission(request, campaign):
        raise PermissionDenied
    return campaign


def campaign_preview(model_admin, request, pk, language):
    campaign = _campaign(model_admin, request, pk)
    if language not in ("da", "en"):
        raise Http404
    content = campaigns.campaign_content(campaign=campaign, language=language)
    context = {
        **model_admin.admin_site.each_context(request),
        "title": _("Preview: %(subject)s") % {"subject": content["subject"]},
        "campaign": campaign,
        "content": content,
        "asked_language": language,
        "opts": model_admin.model._meta,
        "original": campaign,
    }
    return render(request, "admin/newsletters/campaign/preview.html", context)


def campaign_schedule(model_admin, request, pk):
    campaign = _campaign(model_admin, request, pk, change=True)
    form = CampaignScheduleForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                campaigns.campaign_schedule(campaign=campaign, at=form.cleaned_data["scheduled_at"], by=request.user)
            except InvalidTransition:
                model_admin.message_user(
                    request, _("Only a draft or scheduled campaign can be scheduled."), messages.ERROR
                )
            else:
                model_admin.message_user(request, _("The campaign is scheduled."), messages.SUCCESS)
            return redirect("admin:newsletters_campaign_change", campaign.pk)
        status = 400
    context = {
        **model_admin.admin_site.each_context(request),
        "title": _("Schedule: %(subject)s") % {"subject": campaign.subject},
        "form": form,
        "campaign": campaign,
        "opts": model_admin.model._meta,
        "original": campaign,
    }
    return TemplateResponse(request, "admin/newsletters/campaign/schedule.html", context, status=status)


def campaign_send(model_admin, request, pk):
    """ "Send now" asks first: the page shows whom the campaign reaches and what they read, and only its confirm
    button (a POST carrying the count that was shown) starts the sending."""
    campaign = _campaign(model_admin, request, pk, change=True)
    if campaign.status not in (Campaign.Status.DRAFT, Campaign.Status.SCHEDULED):
        _refuse(model_admin, request, campaign)
        return redirect("admin:newsletters_campaign_change", campaign.pk)
    expected = selectors.campaign_recipient_count(campaign=campaign)
    form = CampaignSendForm(request.POST if request.method == "POST" else None, expected=expected)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            _transition(model_admin, request, campaign, campaigns.campaign_send_now, _("“%(subject)s” is being sent."))
            return redirect("admin:newsletters_campaign_change", campaign.pk)
        status = 400
    context = {
        **model_admin.admin_site.each_context(request),
        "title": _("Send “%(subject)s” now?") % {"subject": campaign.subject},
        "form": form,
        "campaign": campaign,
        "recipient_count": expected,
        "topics": list(campaign.topics.all()),
        "contents": [
            {"code": code, "name": name, **campaigns.campaign_content(campaign=campaign, language=code)}
            for code, name in settings.LANGUAGES
        ],
        "opts": model_admin.model._meta,
        "original": campaign,
    }
    return TemplateResponse(request, "admin/newsletters/campaign/send.html", context, status=status)


def campaign_send_test(model_admin, request, campaign) -> None:
    campaigns.campaign_send_test(campaign=campaign, to=request.user.email, language=request.user.preferred_language)
    model_admin.message_user(
        request,
        _("A test copy of “%(subject)s” is on its way to %(email)s.")
        % {"subject": campaign.subject, "email": request.user.email},
    )


def _refuse(model_admin, request, campaign) -> None:
    model_admin.message_user(
        request,
        _("“%(subject)s” is %(status)s: that is not possible now.")
        % {"subject": campaign.subject, "status": campaign.get_status_display()},
        messages.ERROR,
    )


def _transition(model_admin, request, campaign, service, done_message) -> None:
    try:
        service(campaign=campaign, by=request.user)
    except InvalidTransition:
        _refuse(model_admin, request, campaign)
        return
    model_admin.message_user(request, done_message % {"subject": campaign.subject}, messages.SUCCESS)


def _controls():
    """The one-campaign controls on its change page: what each runs, and what it says when done."""
    return {
        "pause": (campaigns.campaign_pause, _("“%(subject)s” is paused.")),
        "resume": (campaigns.campaign_resume, _("“%(subject)s” is sending again.")),
        "unschedule": (campaigns.campaign_unschedule, _("“%(subject)s” is a draft again.")),
    }


def campaign_control(model_admin, request, pk, operation):
    if operation not in ("send", "test", *_controls()):
        raise Http404
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if operation == "send":
        return campaign_send(model_admin, request, pk=pk)
    campaign = _campaign(model_admin, request, pk, change=True)
    if operation == "test":
        campaign_send_test(model_admin, request, campaign)
    else:
        service, done_message = _controls()[operation]
        _transition(model_admin, request, campaign, service, done_message)
    return redirect("admin:newsletters_campaign_change", campaign.pk)
