"""Site-wide pages that belong to no single app: the home page and the health check."""

import time

from django.db import connection
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from events.selectors import event_list, upcoming_events
from hubs.map import region_map
from hubs.models import Region
from hubs.selectors import hub_list
from members.selectors import hub_member_count


def home(request):
    return render(request, "home.html", {"hubs": hub_list(), "upcoming_events": upcoming_events(limit=3)})


@require_GET
def hub_detail(request, slug):
    """A hub's page gathers what three apps know: the hub and its people, its members, its upcoming events."""
    hub = get_object_or_404(hub_list().prefetch_related("contacts"), slug=slug)
    served = {region.code for region in hub.regions.all()}
    return render(
        request,
        "hubs/hub_detail.html",
        {
            "hub": hub,
            "events": list(event_list(upcoming=True, hub=hub.slug)[:5]),
            "member_count": hub_member_count(hub=hub),
            "map": region_map(regions=Region.objects.order_by("code"), served_codes=served),
        },
    )


def _database_state() -> dict:
    started = time.monotonic()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True, "ms": round((time.monotonic() - started) * 1000, 1)}


def _broker_state() -> dict:
    from dlsc.celery import app

    started = time.monotonic()
    try:
        # One attempt only: a retry would make the health check itself wait on a broker that is down.
        with app.connection_for_write() as broker:
            broker.ensure_connection(max_retries=0, timeout=1)
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True, "ms": round((time.monotonic() - started) * 1000, 1)}


@never_cache
@require_GET
def healthz(request):
    from outbox.api import outbox_backlog

    database = _database_state()
    state = {"database": database, "broker": _broker_state()}
    if database["ok"]:
        state["outbox"] = outbox_backlog()
    state["status"] = "ok" if database["ok"] and state["broker"]["ok"] else ("degraded" if database["ok"] else "down")
    return JsonResponse(state, status=200 if database["ok"] else 503)


def media(request, path):
    """Uploaded files while DEBUG is on (a deployment's proxy serves /media/). A path the file system refuses
    (too long, say) is as missing as any other."""
    from django.conf import settings
    from django.http import Http404
    from django.views.static import serve

    try:
        return serve(request, path, document_root=settings.MEDIA_ROOT)
    except OSError:
        raise Http404 from None
