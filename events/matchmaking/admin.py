"""Matchmaking in the admin: settings with schedule runs, the grid per slot, meetings, requests and the report."""

from django.contrib import admin, messages
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from modeltranslation.admin import TranslationAdmin

from events.matchmaking import selectors, services
from events.models import Event, InvalidTransition, MatchmakingConfig, Meeting, MeetingRequest, MeetingSession, Profile
from hubs.scoping import HubScopedAdminMixin, user_hub_scope


def _run(modeladmin, request, queryset, *, allow_move):
    for config in queryset.select_related("event"):
        try:
            run = services.schedule_run(event=config.event, by=request.user, allow_move=allow_move)
        except services.MatchmakingError as error:
            modeladmin.message_user(request, f"{config.event}: {error}", messages.ERROR)
            continue
        result = run.result
        modeladmin.message_user(
            request,
            _("%(event)s: %(placed)d of %(accepted)d meetings placed (at most %(bound)d possible), %(gaps)d idle gaps.")
            % {
                "event": config.event,
                "placed": result.placed_count,
                "accepted": Meeting.objects.filter(event=config.event).count(),
                "bound": result.upper_bound,
                "gaps": result.gaps,
            },
        )


@admin.action(description=_("Run the scheduler (unlocked meetings may move)"))
def schedule_moving(modeladmin, request, queryset):
    _run(modeladmin, request, queryset, allow_move=True)


@admin.action(description=_("Run the scheduler (placed meetings stay)"))
def schedule_keeping(modeladmin, request, queryset):
    _run(modeladmin, request, queryset, allow_move=False)


@admin.register(MatchmakingConfig)
class MatchmakingConfigAdmin(HubScopedAdminMixin, admin.ModelAdmin):
    hub_lookup = "event__hub"
    list_display = [
        "event",
        "enabled",
        "tables",
        "request_expiry_hours",
        "max_pending_requests",
        "scheduled_at",
        "grid",
    ]
    list_select_related = ["event"]
    raw_id_fields = ["event"]
    readonly_fields = ["scheduled_at"]
    actions = [schedule_moving, schedule_keeping]

    @admin.display(description=_("grid"))
    def grid(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("admin:matchmaking_grid", args=[obj.pk]), _("Grid"))

    def get_urls(self):
        return [
            path("<int:pk>/grid/", self.admin_site.admin_view(self.grid_view), name="matchmaking_grid"),
            path("report/", self.admin_site.admin_view(self.report_view), name="matchmaking_report"),
            *super().get_urls(),
        ]

    def grid_view(self, request, pk):
        config = get_object_or_404(self.get_queryset(request).select_related("event"), pk=pk)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Meeting grid: %(event)s") % {"event": config.event},
            "config": config,
            "tables": range(1, config.tables + 1),
            "rows": selectors.grid(event=config.event),
        }
        return TemplateResponse(request, "admin/events/matchmaking/grid.html", context)

    def report_view(self, request):
        events = Event.objects.filter(matchmaking__isnull=False)
        hubs = user_hub_scope(request.user)
        if hubs is not None:
            events = events.filter(hub__in=hubs)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Matchmaking report"),
            "rows": selectors.report(events=events.order_by("-starts_at")),
        }
        return TemplateResponse(request, "admin/events/matchmaking/report.html", context)


@admin.register(MeetingSession)
class MeetingSessionAdmin(HubScopedAdminMixin, admin.ModelAdmin):
    hub_lookup = "event__hub"
    list_display = ["__str__", "event", "starts_at", "slot_minutes", "slot_count"]
    raw_id_fields = ["event"]

    def get_readonly_fields(self, request, obj=None):
        # Slots hold meetings and availability; changing their times means a new session.
        return ["starts_at", "slot_minutes", "slot_count", "event"] if obj else []

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        created = services.session_create(
            event=obj.event,
            starts_at=obj.starts_at,
            slot_minutes=obj.slot_minutes,
            slot_count=obj.slot_count,
            name=obj.name,
        )
        obj.pk = created.pk


@admin.register(Profile)
class ProfileAdmin(HubScopedAdminMixin, TranslationAdmin):
    hub_lookup = "event__hub"
    list_display = ["display_name", "organisation_name", "kind", "event"]
    list_filter = ["kind"]
    search_fields = ["display_name", "organisation_name", "user__email"]
    list_select_related = ["event"]
    raw_id_fields = ["event", "registration", "user", "organisation"]
    filter_horizontal = ["offer_tags", "seek_tags", "segments"]


@admin.register(MeetingRequest)
class MeetingRequestAdmin(HubScopedAdminMixin, admin.ModelAdmin):
    hub_lookup = "event__hub"
    list_display = ["sender", "recipient", "event", "status_column", "created_at", "expires_at"]
    list_filter = ["status"]
    search_fields = ["sender__display_name", "recipient__display_name"]
    list_select_related = ["sender", "recipient", "event"]
    readonly_fields = ["event", "sender", "recipient", "message", "status", "created_at", "expires_at", "answered_at"]

    def has_add_permission(self, request):
        return False

    @admin.display(description=_("status"), ordering="status")
    def status_column(self, obj):
        return format_html('<span class="status-badge status-{}">{}</span>', obj.status, obj.get_status_display())


def _meeting_action(description, call):
    def action(modeladmin, request, queryset):
        done = 0
        for meeting in queryset:
            try:
                call(meeting=meeting, by=request.user)
                done += 1
            except (services.MatchmakingError, InvalidTransition) as error:
                modeladmin.message_user(request, f"{meeting}: {error}", messages.ERROR)
        modeladmin.message_user(
            request, ngettext("%(count)d meeting updated.", "%(count)d meetings updated.", done) % {"count": done}
        )

    action.short_description = description
    # Django names admin actions by __name__; each wrapper needs its own.
    action.__name__ = call.__name__
    return action


def lock(*, meeting, by):
    services.meeting_set_locked(meeting=meeting, by=by, locked=True)


def unlock(*, meeting, by):
    services.meeting_set_locked(meeting=meeting, by=by, locked=False)


def mark_held(*, meeting, by):
    services.meeting_record_outcome(meeting=meeting, by=by, outcome=Meeting.Outcome.HELD)


def mark_no_show(*, meeting, by):
    services.meeting_record_outcome(meeting=meeting, by=by, outcome=Meeting.Outcome.NO_SHOW)


def fit_keeping(*, meeting, by):
    services.meeting_fit_late(meeting=meeting, by=by, allow_move=False)


def fit_moving(*, meeting, by):
    services.meeting_fit_late(meeting=meeting, by=by, allow_move=True)


@admin.register(Meeting)
class MeetingAdmin(HubScopedAdminMixin, admin.ModelAdmin):
    hub_lookup = "event__hub"
    list_display = ["__str__", "event", "slot", "table", "locked", "outcome"]
    list_filter = ["locked", "outcome", ("slot", admin.EmptyFieldListFilter)]
    list_select_related = ["event", "slot", "first", "second"]
    readonly_fields = ["event", "request", "first", "second", "slot", "table", "locked", "outcome"]
    actions = [
        _meeting_action(_("Lock in place"), lock),
        _meeting_action(_("Unlock"), unlock),
        _meeting_action(_("Mark held"), mark_held),
        _meeting_action(_("Mark no-show"), mark_no_show),
        _meeting_action(_("Fit in without moving others"), fit_keeping),
        _meeting_action(_("Fit in, moving unlocked meetings if needed"), fit_moving),
    ]

    def has_add_permission(self, request):
        return False
