"""Matchmaking in the admin: settings with schedule runs, the grid per slot, meetings, requests and the report."""

from functools import partial

from django.contrib import admin
from django.db.models import OuterRef, Subquery
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from modeltranslation.admin import TranslationAdmin

from common.admin import ReadOnlyAdminMixin, run_on_selected
from events.matchmaking import admin_views, services
from events.models import (
    MatchmakingConfig,
    Meeting,
    MeetingRequest,
    MeetingSession,
    Profile,
    ScheduleRun,
)
from hubs.scoping import HubScopedAdminMixin


def _after_queueing(request, runs):
    """One run: its page, which follows the solve; several: the list of runs."""
    if len(runs) == 1:
        return HttpResponseRedirect(admin_views.run_url(runs[0]))
    if runs:
        return HttpResponseRedirect(reverse("admin:events_schedulerun_changelist"))
    return None


def _queue_schedules(modeladmin, request, queryset, *, allow_move):
    runs = []

    def start(config):
        runs.append(services.schedule_start(event=config.event, by=request.user, allow_move=allow_move))

    run_on_selected(
        modeladmin,
        request,
        queryset.select_related("event"),
        start,
        done=lambda count: (
            ngettext(
                "%(count)d schedule run queued; a worker solves it.",
                "%(count)d schedule runs queued; workers solve them.",
                count,
            )
            % {"count": count}
        ),
        label=lambda config: str(config.event),
    )
    return _after_queueing(request, runs)


@admin.action(description=_("Run the scheduler (unlocked meetings may move)"))
def schedule_moving(modeladmin, request, queryset):
    return _queue_schedules(modeladmin, request, queryset, allow_move=True)


@admin.action(description=_("Run the scheduler (placed meetings stay)"))
def schedule_keeping(modeladmin, request, queryset):
    return _queue_schedules(modeladmin, request, queryset, allow_move=False)


class _RemovalChangesInput:
    """Deleting slots, meetings or profiles changes what the scheduler reads: runs solved before are outdated."""

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        services.input_removed(event_id=obj.event_id)

    def delete_queryset(self, request, queryset):
        event_ids = set(queryset.values_list("event_id", flat=True))
        super().delete_queryset(request, queryset)
        for event_id in event_ids:
            services.input_removed(event_id=event_id)


@admin.register(MatchmakingConfig)
class MatchmakingConfigAdmin(HubScopedAdminMixin, admin.ModelAdmin):
    hub_lookup = "event__hub"
    # The last run beside the event, where a narrow screen still shows it.
    list_display = [
        "event",
        "last_run",
        "enabled",
        "tables",
        "request_expiry_hours",
        "max_pending_requests",
        "scheduled_at",
        "grid",
    ]
    list_select_related = ["event"]
    raw_id_fields = ["event"]
    readonly_fields = ["scheduled_at", "last_run"]
    actions = [schedule_moving, schedule_keeping]

    @admin.display(description=_("grid"))
    def grid(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("admin:matchmaking_grid", args=[obj.pk]), _("Grid"))

    def get_queryset(self, request):
        latest = ScheduleRun.objects.filter(event_id=OuterRef("event_id")).order_by("-queued_at", "-pk")
        return (
            super()
            .get_queryset(request)
            .annotate(
                last_run_pk=Subquery(latest.values("pk")[:1]),
                last_run_status=Subquery(latest.values("status")[:1]),
            )
        )

    @admin.display(description=_("last schedule run"))
    def last_run(self, obj):
        if getattr(obj, "last_run_pk", None) is None:  # the add form has no annotated row
            return "–"
        return format_html(
            '<a href="{}"><span class="status-badge status-{}">{}</span></a>',
            reverse("admin:matchmaking_run", args=[obj.last_run_pk]),
            obj.last_run_status,
            ScheduleRun.Status(obj.last_run_status).label,
        )

    def save_model(self, request, obj, form, change):
        if change:
            services.config_update(config=obj, by=request.user)
        else:
            super().save_model(request, obj, form, change)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/grid/", view(partial(admin_views.grid, model_admin=self)), name="matchmaking_grid"),
            path("report/", view(partial(admin_views.report, model_admin=self)), name="matchmaking_report"),
            path("runs/<int:pk>/", view(partial(admin_views.run_detail, model_admin=self)), name="matchmaking_run"),
            *super().get_urls(),
        ]


@admin.register(ScheduleRun)
class ScheduleRunAdmin(ReadOnlyAdminMixin, HubScopedAdminMixin, admin.ModelAdmin):
    """Runs are started by the settings' actions and followed on their own page; this list finds them again."""

    hub_lookup = "event__hub"
    list_display = ["event", "kind", "status_column", "queued_at", "placed", "upper_bound", "gaps", "started_by"]
    list_filter = ["status", "kind"]
    list_select_related = ["event", "started_by"]

    @admin.display(description=_("status"), ordering="status")
    def status_column(self, obj):
        return format_html(
            '<a href="{}"><span class="status-badge status-{}">{}</span></a>',
            admin_views.run_url(obj),
            obj.status,
            obj.get_status_display(),
        )


@admin.register(MeetingSession)
class MeetingSessionAdmin(_RemovalChangesInput, HubScopedAdminMixin, admin.ModelAdmin):
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
class ProfileAdmin(_RemovalChangesInput, HubScopedAdminMixin, TranslationAdmin):
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


def _meeting_action(description, service, *, name):
    def action(modeladmin, request, queryset):
        run_on_selected(
            modeladmin,
            request,
            queryset,
            partial(service, by=request.user),
            done=lambda count: (
                ngettext("%(count)d meeting updated.", "%(count)d meetings updated.", count) % {"count": count}
            ),
        )

    action.short_description = description
    # Django names admin actions by __name__; each wrapper needs its own.
    action.__name__ = name
    return action


def _late_fit_action(description, *, allow_move, name):
    def action(modeladmin, request, queryset):
        runs = []

        def start(meeting):
            runs.append(services.meeting_fit_late_start(meeting=meeting, by=request.user, allow_move=allow_move))

        run_on_selected(
            modeladmin,
            request,
            queryset.select_related("event", "first", "second"),
            start,
            done=lambda count: (
                ngettext(
                    "%(count)d late meeting queued; a worker fits it in.",
                    "%(count)d late meetings queued; workers fit them in.",
                    count,
                )
                % {"count": count}
            ),
        )
        return _after_queueing(request, runs)

    action.short_description = description
    action.__name__ = name
    return action


def _lock(meeting, *, by):
    services.meeting_set_locked(meeting=meeting, by=by, locked=True)


def _unlock(meeting, *, by):
    services.meeting_set_locked(meeting=meeting, by=by, locked=False)


def _mark_held(meeting, *, by):
    services.meeting_record_outcome(meeting=meeting, by=by, outcome=Meeting.Outcome.HELD)


def _mark_no_show(meeting, *, by):
    services.meeting_record_outcome(meeting=meeting, by=by, outcome=Meeting.Outcome.NO_SHOW)


@admin.register(Meeting)
class MeetingAdmin(_RemovalChangesInput, HubScopedAdminMixin, admin.ModelAdmin):
    hub_lookup = "event__hub"
    list_display = ["__str__", "event", "slot", "table", "locked", "outcome"]
    list_filter = ["locked", "outcome", ("slot", admin.EmptyFieldListFilter)]
    list_select_related = ["event", "slot", "first", "second"]
    readonly_fields = ["event", "request", "first", "second", "slot", "table", "locked", "outcome"]
    actions = [
        _meeting_action(_("Lock in place"), _lock, name="lock"),
        _meeting_action(_("Unlock"), _unlock, name="unlock"),
        _meeting_action(_("Mark held"), _mark_held, name="mark_held"),
        _meeting_action(_("Mark no-show"), _mark_no_show, name="mark_no_show"),
        _late_fit_action(_("Fit in without moving others"), allow_move=False, name="fit_keeping"),
        _late_fit_action(_("Fit in, moving unlocked meetings if needed"), allow_move=True, name="fit_moving"),
    ]

    def has_add_permission(self, request):
        return False
