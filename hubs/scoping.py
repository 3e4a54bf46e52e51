"""Hub staff see and change in the admin only what belongs to their own hub(s); superusers see everything."""

from hubs.models import Hub


def user_hub_scope(user):
    """None means unrestricted; otherwise the queryset of hubs the user is staff of."""
    if user.is_superuser:
        return None
    return Hub.objects.filter(staff=user)


class HubScopedAdminMixin:
    """For a ModelAdmin whose objects belong to a hub through `hub_lookup` (a field path such as "hub" or
    "event__hub"). Objects outside the scope are not listed, and their change URLs answer 404 like any missing
    object, because get_object() goes through get_queryset()."""

    hub_lookup = "hub"

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        hubs = user_hub_scope(request.user)
        if hubs is None:
            return queryset
        return queryset.filter(**{f"{self.hub_lookup}__in": hubs}).distinct()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        hubs = user_hub_scope(request.user)
        if hubs is not None and db_field.related_model is Hub:
            kwargs["queryset"] = hubs
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
