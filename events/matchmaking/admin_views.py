"""Custom admin pages of matchmaking: a schedule run's progress and result, the meeting grid, the report."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from events.matchmaking import selectors, services
from events.models import Event, ScheduleRun
from hubs.scoping import user_hub_scope

# Seconds between the page's own reloads while a run is queued or solving (a meta refresh: no script).
REFRESH_SECONDS = 2


def run_url(run: ScheduleRun) -> str:
    return reverse("admin:matchmaking_run", args=[run.pk])


def _summary(run: ScheduleRun) -> str:
    """The result in one sentence, as staff read it in the messages after a run."""
    if run.kind == ScheduleRun.Kind.LATE_FIT:
        if run.placed:
            return _("%(meeting)s: fitted in; %(moved)d other meetings moved.") % {
                "meeting": run.meeting or "–",
                "moved": run.moved or 0,
            }
        return _("%(meeting)s: no free slot; the meeting stays unplaced.") % {"meeting": run.meeting or "–"}
    return _(
        "%(event)s: %(placed)d of %(accepted)d meetings placed (at most %(bound)d possible), %(gaps)d idle gaps."
    ) % {
        "event": run.event,
        "placed": run.placed,
        "accepted": run.accepted,
        "bound": run.upper_bound,
        "gaps": run.gaps,
    }


def _again(request, run: ScheduleRun) -> HttpResponseRedirect:
    """Start the same run once more (after an outdated or failed one) and go to the new run's page."""
    try:
        if run.kind == ScheduleRun.Kind.LATE_FIT and run.meeting is not None:
            again = services.meeting_fit_late_start(meeting=run.meeting, by=request.user, allow_move=run.allow_move)
        else:
            again = services.schedule_start(event=run.event, by=request.user, allow_move=run.allow_move)
    except services.MatchmakingError as error:
        messages.warning(request, str(error))
        return HttpResponseRedirect(run_url(run))
    return HttpResponseRedirect(run_url(again))


@require_http_methods(["GET", "HEAD", "POST"])
def run_detail(request, pk, *, model_admin):
    """One run: queued and solving show progress and reload the page; applied shows the figures; outdated and
    failed say why and offer to run again."""
    configs = model_admin.get_queryset(request)
    run = get_object_or_404(
        ScheduleRun.objects.filter(event__matchmaking__in=configs).select_related(
            "event__matchmaking", "started_by", "meeting__first", "meeting__second"
        ),
        pk=pk,
    )
    if request.method == "POST":
        if not model_admin.has_change_permission(request, run.event.matchmaking) or run.active:
            raise PermissionDenied
        return _again(request, run)
    context = {
        **model_admin.admin_site.each_context(request),
        "title": _("Schedule run: %(event)s") % {"event": run.event},
        "run": run,
        "config": run.event.matchmaking,
        "summary": _summary(run) if run.status == ScheduleRun.Status.APPLIED else "",
        "refresh_seconds": REFRESH_SECONDS if run.active else None,
        "can_run_again": not run.active and model_admin.has_change_permission(request, run.event.matchmaking),
        "previous": ScheduleRun.objects.filter(event=run.event).exclude(pk=run.pk).order_by("-queued_at", "-pk")[:5],
    }
    return TemplateResponse(request, "admin/events/matchmaking/run.html", context)


def grid(request, pk, *, model_admin):
    config = get_object_or_404(model_admin.get_queryset(request).select_related("event"), pk=pk)
    context = {
        **model_admin.admin_site.each_context(request),
        "title": _("Meeting grid: %(event)s") % {"event": config.event},
        "config": config,
        "tables": range(1, config.tables + 1),
        "rows": selectors.grid(event=config.event),
        "last_run": ScheduleRun.objects.filter(event=config.event).order_by("-queued_at", "-pk").first(),
    }
    return TemplateResponse(request, "admin/events/matchmaking/grid.html", context)


def report(request, *, model_admin):
    events = Event.objects.filter(matchmaking__isnull=False)
    hubs = user_hub_scope(request.user)
    if hubs is not None:
        events = events.filter(hub__in=hubs)
    context = {
        **model_admin.admin_site.each_context(request),
        "title": _("Matchmaking report"),
        "rows": selectors.report(events=events.order_by("-starts_at")),
    }
    return TemplateResponse(request, "admin/events/matchmaking/report.html", context)
