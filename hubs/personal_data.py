"""What the hubs app keeps about a person: the hubs they are staff of, and the contact cards on hub pages that
carry their address (a card is a person's name, role, phone and photo, published on the hub's page)."""

from hubs.models import Hub, HubContact


def _addresses(user) -> list[str]:
    return [user.email, *user.emailaddress_set.values_list("email", flat=True)]


def hubs_collect(user) -> dict:
    return {
        "hub_staff_of": [hub.name for hub in Hub.objects.filter(staff=user).order_by("name")],
        "hub_contact_cards": [
            {"hub": card.hub.name, "name": card.name, "role": card.role, "email": card.email, "phone": card.phone}
            for card in HubContact.objects.filter(email__in=_addresses(user)).select_related("hub").order_by("pk")
        ],
    }


def hubs_erase(user) -> None:
    """A person who leaves takes their card off the hub pages, photo included."""
    for card in HubContact.objects.filter(email__in=_addresses(user)):
        if card.photo:
            card.photo.delete(save=False)
        card.delete()
