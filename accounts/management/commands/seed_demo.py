"""Build demo data through the services. Each app contributes a `demo.py` with `seed(*, rng, stdout)`;
running it again changes nothing that is already there."""

import importlib
import random

from django.core.management.base import BaseCommand
from django.db import transaction

DEMO_MODULES = [
    "accounts.demo",
    "hubs.demo",
    "members.demo",
    "events.demo",
    "events.matchmaking.demo",
    "newsletters.demo",
]


class Command(BaseCommand):
    help = "Load demo data (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=2020, help="random seed for reproducible demo data")

    def handle(self, *args, seed, **options):
        rng = random.Random(seed)
        for module_name in DEMO_MODULES:
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError as exc:
                if exc.name != module_name:
                    raise
                continue
            self.stdout.write(f"{module_name}:")
            with transaction.atomic():
                module.seed(rng=rng, stdout=self.stdout)
        from accounts.demo import logins

        self.stdout.write(self.style.SUCCESS("Demo data ready. Logins:"))
        for who, email, password in logins():
            self.stdout.write(f"  {who}: {email} / {password}")
