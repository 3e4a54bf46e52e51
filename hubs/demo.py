"""Hubs come from a data migration; the demo adds a hub staff user for Aarhus."""

from accounts.demo import DEMO_PASSWORD
from accounts.models import User
from accounts.services import user_create
from hubs.models import Hub


def seed(*, rng, stdout) -> None:
    email = "aarhus-staff@dlsc.example"
    if User.objects.filter(email=email).exists():
        return
    user = user_create(
        email=email, password=DEMO_PASSWORD, full_name="Anders Aarhus", is_staff=True, email_verified=True
    )
    Hub.objects.get(slug="aarhus").staff.add(user)
    stdout.write(f"  hub staff {email} (Aarhus)")
