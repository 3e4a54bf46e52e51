"""The billing panel on the admin index: aged receivables, monthly revenue and the invoices flagged for staff."""

from django import template

from billing.selectors import aged_receivables, invoices_flagged, monthly_revenue
from hubs.scoping import user_hub_scope

register = template.Library()

FLAGGED_SHOWN = 10


def billing_dashboard_data(*, user, today=None) -> dict:
    hubs = user_hub_scope(user)
    revenue = monthly_revenue(today=today, hubs=hubs)
    top = max((abs(row["net"]) for row in revenue), default=0) or 1
    flagged = invoices_flagged(hubs=hubs)
    return {
        "aged": aged_receivables(today=today, hubs=hubs),
        "revenue": [{**row, "width": round(abs(row["net"]) * 100 / top)} for row in revenue],
        "flagged": list(flagged[:FLAGGED_SHOWN]),
        "flagged_count": flagged.count(),
    }


@register.inclusion_tag("admin/billing/dashboard.html", takes_context=True)
def billing_dashboard(context):
    user = context["request"].user
    if not user.has_perm("billing.view_invoice"):
        return {"dashboard": None}
    return {"dashboard": billing_dashboard_data(user=user)}
