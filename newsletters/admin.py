"""The newsletter back office: topics, subscribers with their consent ledger, import, and campaigns with preview,
test send, scheduling, send now, pause and resume, and a progress bar."""

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST
from modeltranslation.admin import TranslationAdmin

from common import exports
from hubs.scoping import HubScopedAdminMixin
from newsletters import campaigns, selectors, subscriptions
from newsletters.forms import CampaignScheduleForm, CampaignSendForm, ImportForm
from newsletters.models import Campaign, ConsentRecord, InvalidTransition, Subscriber, Topic


def status_badge(value: str, label) -> str:
    return format_html('<span class="status-badge status-{}">{}</span>', value, label)


@admin.register(Topic)
class TopicAdmin(TranslationAdmin):
    list_display = ["name", "slug", "hub", "is_active", "is_default", "subscriber_count", "ordering"]
    list_filter = ["is_active", "hub"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name_da"]}

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("hub")
            .annotate(confirmed=Count("subscribers", filter=Q(subscribers__status=Subscriber.Status.CONFIRMED)))
        )

    @admin.display(description=gettext_lazy("confirmed subscribers"), ordering="confirmed")
    def subscriber_count(self, obj):
        return obj.confirmed


class ConsentRecordInline(admin.TabularInline):
    model = ConsentRecord
    fields = ["occurred_at", "action", "source", "ip_address", "consent_text_version", "topics", "actor", "note"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["-occurred_at", "-pk"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    list_display = ["email", "name", "language", "status_badge", "confirmed_at", "created_at"]
    list_filter = ["status", "language", "topics"]
    search_fields = ["email", "name"]
    date_hierarchy = "created_at"
    # Status and topics change only through the services, so that every change leaves a ledger row.
    readonly_fields = [
        "email",
        "language",
        "status",
        "topics",
        "user",
        "created_at",
        "confirmed_at",
        "unsubscribed_at",
        "bounced_at",
    ]
    fields = ["email", "name", *readonly_fields[1:]]
    inlines = [ConsentRecordInline]
    actions = ["unsubscribe_selected"]
    change_form_template = "admin/newsletters/subscriber/change_form.html"
    change_list_template = "admin/newsletters/subscriber/change_list.html"

    def has_add_permission(self, request):
        return False

    @admin.display(description=gettext_lazy("status"), ordering="status")
    def status_badge(self, obj):
        return status_badge(obj.status, obj.get_status_display())

    def get_urls(self):
        return [
            path(
                "<int:pk>/consent.csv",
                self.admin_site.admin_view(self.consent_export_view),
                name="newsletters_subscriber_consent",
            ),
            path("import/", self.admin_site.admin_view(self.import_view), name="newsletters_subscriber_import"),
            *super().get_urls(),
        ]

    def consent_export_view(self, request, pk):
        subscriber = self.get_object(request, str(pk))
        if subscriber is None:
            raise Http404
        return exports.csv_response(
            filename=f"consent-{subscriber.pk}.csv",
            header=selectors.CONSENT_EXPORT_FIELDS,
            rows=selectors.consent_export_rows(subscriber=subscriber),
        )

    def import_view(self, request):
        if not self.has_change_permission(request):
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
                    self.message_user(
                        request,
                        _("Imported: %(created)d new and %(updated)d existing subscribers.")
                        % {"created": result.created, "updated": result.updated},
                        messages.SUCCESS,
                    )
                    return redirect("admin:newsletters_subscriber_changelist")
            status = 400
        context = {
            **self.admin_site.each_context(request),
            "title": _("Import subscribers"),
            "form": form,
            "errors": errors,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/newsletters/subscriber/import.html", context, status=status)

    @admin.action(description=gettext_lazy("Unsubscribe the selected subscribers"), permissions=["change"])
    def unsubscribe_selected(self, request, queryset):
        done = sum(
            subscriptions.subscriber_unsubscribe(
                subscriber=subscriber, source=ConsentRecord.Source.STAFF, ip_address=None, actor=request.user
            )
            for subscriber in queryset
        )
        self.message_user(
            request, ngettext("%(count)d unsubscribed.", "%(count)d unsubscribed.", done) % {"count": done}
        )


@admin.register(ConsentRecord)
class ConsentRecordAdmin(admin.ModelAdmin):
    list_display = ["occurred_at", "subscriber", "action", "source", "ip_address", "consent_text_version"]
    list_filter = ["action", "source", "consent_text_version"]
    search_fields = ["subscriber__email"]
    date_hierarchy = "occurred_at"
    list_select_related = ["subscriber"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def progress_html(*, sent: int, failed: int, total: int) -> str:
    done = sent + failed
    percent = int(100 * done / total) if total else 0
    return format_html(
        '<progress class="campaign-progress" max="100" value="{}" aria-label="{}">{}%</progress> '
        '<span class="campaign-counts">{}</span>',
        percent,
        _("Progress"),
        percent,
        _("%(sent)d sent, %(failed)d failed, %(remaining)d remaining")
        % {"sent": sent, "failed": failed, "remaining": total - done},
    )


@admin.register(Campaign)
class CampaignAdmin(HubScopedAdminMixin, TranslationAdmin):
    list_display = ["subject", "status_badge", "hub", "scheduled_at", "finished_at", "progress"]
    list_filter = ["status", "hub", "topics"]
    search_fields = ["subject"]
    filter_horizontal = ["topics"]
    actions = ["send_test_to_me", "send_now", "pause", "resume", "unschedule"]
    change_form_template = "admin/newsletters/campaign/change_form.html"
    content_fields = ["subject", "body", "topics", "hub"]
    state_fields = [
        "status",
        "scheduled_at",
        "started_at",
        "finished_at",
        "recipient_count",
        "progress",
        "pause_reason",
        "created_by",
        "created_at",
    ]

    def get_queryset(self, request):
        return selectors.campaigns_with_progress(super().get_queryset(request).select_related("hub"))

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status not in (Campaign.Status.DRAFT, Campaign.Status.SCHEDULED):
            return [*self.state_fields, "subject_da", "subject_en", "body_da", "body_en", "topics", "hub"]
        return self.state_fields

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @admin.display(description=gettext_lazy("status"), ordering="status")
    def status_badge(self, obj):
        return status_badge(obj.status, obj.get_status_display())

    @admin.display(description=gettext_lazy("progress"))
    def progress(self, obj):
        if obj.pk is None or obj.status in (Campaign.Status.DRAFT, Campaign.Status.SCHEDULED):
            return "–"
        return progress_html(sent=obj.delivery_sent, failed=obj.delivery_failed, total=obj.delivery_total)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<int:pk>/preview/<str:language>/",
                view(self.preview_view),
                name="newsletters_campaign_preview",
            ),
            path("<int:pk>/schedule/", view(self.schedule_view), name="newsletters_campaign_schedule"),
            path("<int:pk>/send/", view(self.send_view), name="newsletters_campaign_send"),
            path("<int:pk>/control/<str:operation>/", view(self.control_view), name="newsletters_campaign_control"),
            *super().get_urls(),
        ]

    def _campaign(self, request, pk):
        campaign = self.get_object(request, str(pk))
        if campaign is None:
            raise Http404
        return campaign

    def preview_view(self, request, pk, language):
        campaign = self._campaign(request, pk)
        if language not in ("da", "en"):
            raise Http404
        content = campaigns.campaign_content(campaign=campaign, language=language)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Preview: %(subject)s") % {"subject": content["subject"]},
            "campaign": campaign,
            "content": content,
            "asked_language": language,
            "opts": self.model._meta,
            "original": campaign,
        }
        return render(request, "admin/newsletters/campaign/preview.html", context)

    def schedule_view(self, request, pk):
        campaign = self._campaign(request, pk)
        if not self.has_change_permission(request, campaign):
            raise PermissionDenied
        form = CampaignScheduleForm(request.POST or None)
        status = 200
        if request.method == "POST":
            if form.is_valid():
                try:
                    campaigns.campaign_schedule(
                        campaign=campaign, at=form.cleaned_data["scheduled_at"], by=request.user
                    )
                except InvalidTransition:
                    self.message_user(
                        request, _("Only a draft or scheduled campaign can be scheduled."), messages.ERROR
                    )
                else:
                    self.message_user(request, _("The campaign is scheduled."), messages.SUCCESS)
                return redirect("admin:newsletters_campaign_change", campaign.pk)
            status = 400
        context = {
            **self.admin_site.each_context(request),
            "title": _("Schedule: %(subject)s") % {"subject": campaign.subject},
            "form": form,
            "campaign": campaign,
            "opts": self.model._meta,
            "original": campaign,
        }
        return TemplateResponse(request, "admin/newsletters/campaign/schedule.html", context, status=status)

    def send_view(self, request, pk):
        """ "Send now" asks first: the page shows whom the campaign reaches and what they read, and only its
        confirm button (a POST carrying the count that was shown) starts the sending."""
        campaign = self._campaign(request, pk)
        if not self.has_change_permission(request, campaign):
            raise PermissionDenied
        if campaign.status not in (Campaign.Status.DRAFT, Campaign.Status.SCHEDULED):
            self._refuse(request, campaign)
            return redirect("admin:newsletters_campaign_change", campaign.pk)
        expected = selectors.campaign_recipient_count(campaign=campaign)
        form = CampaignSendForm(request.POST if request.method == "POST" else None, expected=expected)
        status = 200
        if request.method == "POST":
            if form.is_valid():
                self._send_now(request, campaign)
                return redirect("admin:newsletters_campaign_change", campaign.pk)
            status = 400
        context = {
            **self.admin_site.each_context(request),
            "title": _("Send “%(subject)s” now?") % {"subject": campaign.subject},
            "form": form,
            "campaign": campaign,
            "recipient_count": expected,
            "topics": list(campaign.topics.all()),
            "contents": [
                {"code": code, "name": name, **campaigns.campaign_content(campaign=campaign, language=code)}
                for code, name in settings.LANGUAGES
            ],
            "opts": self.model._meta,
            "original": campaign,
        }
        return TemplateResponse(request, "admin/newsletters/campaign/send.html", context, status=status)

    def control_view(self, request, pk, operation):
        if operation == "send":
            return require_POST(self.send_view)(request, pk=pk)
        operations = {
            "test": self._send_test,
            "pause": self._pause,
            "resume": self._resume,
            "unschedule": self._unschedule,
        }
        if operation not in operations:
            raise Http404
        return require_POST(self._control)(request, pk=pk, operation=operations[operation])

    def _control(self, request, *, pk, operation):
        campaign = self._campaign(request, pk)
        if not self.has_change_permission(request, campaign):
            raise PermissionDenied
        operation(request, campaign)
        return redirect("admin:newsletters_campaign_change", campaign.pk)

    def _each(self, request, queryset, operation):
        for campaign in queryset:
            operation(request, campaign)

    def _send_test(self, request, campaign):
        language = request.user.preferred_language
        campaigns.campaign_send_test(campaign=campaign, to=request.user.email, language=language)
        self.message_user(
            request,
            _("A test copy of “%(subject)s” is on its way to %(email)s.")
            % {
                "subject": campaign.subject,
                "email": request.user.email,
            },
        )

    def _refuse(self, request, campaign):
        self.message_user(
            request,
            _("“%(subject)s” is %(status)s: that is not possible now.")
            % {"subject": campaign.subject, "status": campaign.get_status_display()},
            messages.ERROR,
        )

    def _transition(self, request, campaign, service, done_message):
        try:
            service(campaign=campaign, by=request.user)
        except InvalidTransition:
            self._refuse(request, campaign)
            return
        self.message_user(request, done_message % {"subject": campaign.subject}, messages.SUCCESS)

    def _send_now(self, request, campaign):
        self._transition(request, campaign, campaigns.campaign_send_now, _("“%(subject)s” is being sent."))

    def _pause(self, request, campaign):
        self._transition(request, campaign, campaigns.campaign_pause, _("“%(subject)s” is paused."))

    def _resume(self, request, campaign):
        self._transition(request, campaign, campaigns.campaign_resume, _("“%(subject)s” is sending again."))

    def _unschedule(self, request, campaign):
        self._transition(request, campaign, campaigns.campaign_unschedule, _("“%(subject)s” is a draft again."))

    @admin.action(description=gettext_lazy("Send a test copy to me"), permissions=["change"])
    def send_test_to_me(self, request, queryset):
        self._each(request, queryset, self._send_test)

    @admin.action(description=gettext_lazy("Send now"), permissions=["change"])
    def send_now(self, request, queryset):
        """Sending is confirmed one campaign at a time, on the page that shows its recipients."""
        campaigns = list(queryset[:2])
        if len(campaigns) != 1:
            self.message_user(request, _("Choose one campaign to send at a time."), messages.WARNING)
            return None
        return redirect("admin:newsletters_campaign_send", campaigns[0].pk)

    @admin.action(description=gettext_lazy("Pause sending"), permissions=["change"])
    def pause(self, request, queryset):
        self._each(request, queryset, self._pause)

    @admin.action(description=gettext_lazy("Resume sending"), permissions=["change"])
    def resume(self, request, queryset):
        self._each(request, queryset, self._resume)

    @admin.action(description=gettext_lazy("Cancel the schedule"), permissions=["change"])
    def unschedule(self, request, queryset):
        self._each(request, queryset, self._unschedule)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["controls"] = {
                "can_send": obj.status in (Campaign.Status.DRAFT, Campaign.Status.SCHEDULED),
                "can_pause": obj.status == Campaign.Status.SENDING,
                "can_resume": obj.status == Campaign.Status.PAUSED,
                "can_unschedule": obj.status == Campaign.Status.SCHEDULED,
            }
        return super().render_change_form(request, context, add, change, form_url, obj)
