"""The members dashboard on the admin index."""

from django import template

from members.selectors import admin_dashboard

register = template.Library()


@register.inclusion_tag("admin/members/dashboard.html", takes_context=True)
def members_dashboard(context):
    request = context["request"]
    return {"dashboard": admin_dashboard(user=request.user)}
