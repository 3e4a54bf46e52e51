"""The events admin's own pages, wired by the ModelAdmins' get_urls: what the next retention run removes."""

from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from events import retention


def registration_retention(model_admin, request):
    """What the next retention run will anonymise or delete. Retention spans every hub: superusers only."""
    if not request.user.is_superuser:
        raise PermissionDenied
    context = {
        **model_admin.admin_site.each_context(request),
        "title": _("Retention: what the next run will remove"),
        "opts": model_admin.model._meta,
        "preview": retention.retention_preview(),
    }
    return TemplateResponse(request, "admin/events/retention.html", context)
