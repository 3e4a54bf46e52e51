"""The admin index's "to act on" figures: one per app, each linking to the admin list it counts. It lives with
the wiring because it reads from apps that must not import each other."""

from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import ngettext

from billing.selectors import invoices_flagged
from events.selectors import events_with_seats_left
from hubs.scoping import user_hub_scope
from members.selectors import applications_pending, memberships_expiring, memberships_expiring_filter
from newsletters.selectors import campaigns_sending
from outbox.api import outbox_backlog


def _link(viewname: str, params: dict) -> str:
    return f"{reverse(viewname)}?{urlencode(params)}"


def staff_figures(*, user) -> list[dict]:
    """What staff act on, within their hubs, for the lists they may view: each {key, count, label, url}."""
    hubs = user_hub_scope(user)
    figures = []

    def add(key: str, count: int, label: str, url: str) -> None:
        figures.append({"key": key, "count": count, "label": label, "url": url})

    if user.has_perm("members.view_membershipapplication"):
        n = applications_pending().count()
        add(
            "applications",
            n,
            ngettext("application waiting for a decision", "applications waiting for a decision", n),
            _link("admin:members_membershipapplication_changelist", {"status__exact": "pending"}),
        )
    if user.has_perm("members.view_membership"):
        n = memberships_expiring(hubs=hubs).count()
        add(
            "expiring",
            n,
            ngettext("membership expiring within 30 days", "memberships expiring within 30 days", n),
            _link("admin:members_membership_changelist", memberships_expiring_filter()),
        )
    if user.has_perm("events.view_event"):
        events = list(events_with_seats_left(hubs=hubs).values_list("pk", flat=True))
        add(
            "events",
            len(events),
            ngettext("upcoming event with seats left", "upcoming events with seats left", len(events)),
            # The admin's list takes an id__in lookup; events still to come are few.
            _link("admin:events_event_changelist", {"id__in": ",".join(map(str, events)) or "0"}),
        )
    if user.has_perm("newsletters.view_campaign"):
        n = campaigns_sending(hubs=hubs).count()
        add(
            "campaigns",
            n,
            ngettext("newsletter being sent", "newsletters being sent", n),
            _link("admin:newsletters_campaign_changelist", {"status__exact": "sending"}),
        )
    if user.has_perm("billing.view_invoice"):
        n = invoices_flagged(hubs=hubs).count()
        add(
            "flagged_invoices",
            n,
            ngettext("invoice unpaid after the last reminder", "invoices unpaid after the last reminder", n),
            _link("admin:billing_invoice_changelist", {"flagged": "yes"}),
        )
    if user.has_perm("outbox.view_outboxmessage"):
        n = outbox_backlog()["failed"]
        add(
            "failed_mail",
            n,
            ngettext("email that could not be delivered", "emails that could not be delivered", n),
            _link("admin:outbox_outboxmessage_changelist", {"status__exact": "failed"}),
        )
    return figures
