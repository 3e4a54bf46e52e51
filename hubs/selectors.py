"""Reads of hubs for pages."""

from django.db.models import QuerySet

from hubs.models import Hub


def hub_list() -> QuerySet[Hub]:
    return Hub.objects.prefetch_related("regions")


def hubs_staffed_by(user) -> QuerySet[Hub]:
    """The hubs a staff user is scoped to; superusers are scoped to none (they see everything)."""
    return Hub.objects.filter(staff=user)
