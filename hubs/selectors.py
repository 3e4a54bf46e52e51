"""Reads of hubs for pages."""

from django.db.models import QuerySet

from hubs.models import Hub


def hub_list() -> QuerySet[Hub]:
    return Hub.objects.prefetch_related("regions")
