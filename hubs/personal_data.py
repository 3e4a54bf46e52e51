"""What the hubs app keeps about a person: the hubs they are staff of (the hub's contact address is the hub's)."""

from hubs.models import Hub


def hubs_collect(user) -> dict:
    return {"hub_staff_of": [hub.name for hub in Hub.objects.filter(staff=user).order_by("name")]}
