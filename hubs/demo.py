"""Hubs come from a data migration; the demo adds a hub staff user for Aarhus."""

from accounts.demo import DEMO_PASSWORD
from accounts.models import User
from accounts.services import user_create
from hubs.models import Hub, HubContact

# Invented demo people for the hub pages (name, role in Danish and English, email).
DEMO_CONTACTS = {
    "copenhagen": [
        ("Signe Staff", "Direktør", "Managing director"),
        ("Karen Lund", "Netværkschef", "Head of networks"),
    ],
    "aarhus": [
        ("Anders Aarhus", "Hubleder", "Hub lead"),
        ("Mette Kjær", "Matchmaking-konsulent", "Matchmaking consultant"),
    ],
    "odense": [("Sofie Holm", "Hubleder", "Hub lead")],
    "aalborg": [("Jonas Berg", "Hubleder", "Hub lead")],
}


def seed(*, rng, stdout) -> None:
    for slug, people in DEMO_CONTACTS.items():
        hub = Hub.objects.get(slug=slug)
        for ordering, (name, role_da, role_en) in enumerate(people):
            email = f"{name.split()[0].lower()}@dlsc.example"
            HubContact.objects.get_or_create(
                hub=hub,
                name=name,
                defaults={"role_da": role_da, "role_en": role_en, "email": email, "ordering": ordering},
            )
    email = "aarhus-staff@dlsc.example"
    if User.objects.filter(email=email).exists():
        return
    user = user_create(
        email=email, password=DEMO_PASSWORD, full_name="Anders Aarhus", is_staff=True, email_verified=True
    )
    Hub.objects.get(slug="aarhus").staff.add(user)
    stdout.write(f"  hub staff {email} (Aarhus)")
