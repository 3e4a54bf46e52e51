"""The newsletter back office: topics, subscribers with their consent ledger, import, and campaigns with preview,
test send, scheduling, send now, pause and resume, and a progress bar."""

from functools import partial

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.db.models import Count, Q
from django.shortcuts import redirect
from django.urls import path
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from modeltranslation.admin import TranslationAdmin

from common.admin import ReadOnlyAdminMixin, run_on_selected
from hubs.scoping import HubScopedAdminMixin
from newsletters import admin_views, campaigns, selectors, subscriptions
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
        view = self.admin_site.admin_view
        return [
            path(
                "<int:pk>/consent.csv",
                view(partial(admin_views.subscriber_consent_export, self)),
                name="newsletters_subscriber_consent",
            ),
            path("import/", view(partial(admin_views.subscribers_import, self)), name="newsletters_subscriber_import"),
            *super().get_urls(),
        ]

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
class ConsentRecordAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["occurred_at", "subscriber", "action", "source", "ip_address", "consent_text_version"]
    list_filter = ["action", "source", "consent_text_version"]
    search_fields = ["subscriber__email"]
    date_hierarchy = "occurred_at"
    list_select_related = ["subscriber"]


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
    actions = ["send_test_to_me", "send_now", "pause", "resume", "unschedule"]
    change_form_template = "admin/newsletters/campaign/change_form.html"
    # Checkboxes rather than the admin's filter_horizontal widget: its script builds labels that screen readers
    # are told to ignore (axe: aria-prohibited-attr), and a campaign has a handful of topics to tick.
    formfield_overrides = {models.ManyToManyField: {"widget": forms.CheckboxSelectMultiple}}
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
                view(partial(admin_views.campaign_preview, self)),
                name="newsletters_campaign_preview",
            ),
            path(
                "<int:pk>/schedule/",
                view(partial(admin_views.campaign_schedule, self)),
                name="newsletters_campaign_schedule",
            ),
            path("<int:pk>/send/", view(partial(admin_views.campaign_send, self)), name="newsletters_campaign_send"),
            path(
                "<int:pk>/control/<str:operation>/",
                view(partial(admin_views.campaign_control, self)),
                name="newsletters_campaign_control",
            ),
            *super().get_urls(),
        ]

    def _each(self, request, queryset, service, done):
        """Run a campaign service on each selected campaign; a refusal names the campaign and its status."""

        def run(campaign):
            try:
                service(campaign=campaign, by=request.user)
            except InvalidTransition as refusal:
                raise InvalidTransition(
                    _("not possible while it is %(status)s.") % {"status": campaign.get_status_display()}
                ) from refusal

        run_on_selected(self, request, queryset, run, done=done, label=lambda campaign: f"“{campaign.subject}”")

    @admin.action(description=gettext_lazy("Send a test copy to me"), permissions=["change"])
    def send_test_to_me(self, request, queryset):
        for campaign in queryset:
            admin_views.campaign_send_test(self, request, campaign)

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
        self._each(
            request,
            queryset,
            campaigns.campaign_pause,
            lambda n: ngettext("%(count)d campaign is paused.", "%(count)d campaigns are paused.", n) % {"count": n},
        )

    @admin.action(description=gettext_lazy("Resume sending"), permissions=["change"])
    def resume(self, request, queryset):
        self._each(
            request,
            queryset,
            campaigns.campaign_resume,
            lambda n: (
                ngettext("%(count)d campaign is sending again.", "%(count)d campaigns are sending again.", n)
                % {"count": n}
            ),
        )

    @admin.action(description=gettext_lazy("Cancel the schedule"), permissions=["change"])
    def unschedule(self, request, queryset):
        self._each(
            request,
            queryset,
            campaigns.campaign_unschedule,
            lambda n: (
                ngettext("%(count)d campaign is a draft again.", "%(count)d campaigns are drafts again.", n)
                % {"count": n}
            ),
        )

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["controls"] = {
                "can_send": obj.status in (Campaign.Status.DRAFT, Campaign.Status.SCHEDULED),
                "can_pause": obj.status == Campaign.Status.SENDING,
                "can_resume": obj.status == Campaign.Status.PAUSED,
                "can_unschedule": obj.status == Campaign.Status.SCHEDULED,
            }
        return super().render_change_form(request, context, add, change, form_url, obj)
