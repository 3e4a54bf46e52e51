"""Demo people: a superuser for the back office and a member user. Idempotent."""

from accounts.models import User
from accounts.services import user_create

DEMO_PASSWORD = "dlsc-demo-2026"  # noqa: S105 (a published demo login)
DEMO_USERS = [
    {"email": "staff@dlsc.example", "full_name": "Signe Staff", "is_staff": True, "is_superuser": True},
    {"email": "member@dlsc.example", "full_name": "Mads Member", "is_staff": False, "is_superuser": False},
]


def seed(*, rng, stdout) -> None:
    for spec in DEMO_USERS:
        if User.objects.filter(email=spec["email"]).exists():
            continue
        user_create(password=DEMO_PASSWORD, email_verified=True, **spec)
        stdout.write(f"  user {spec['email']}")
