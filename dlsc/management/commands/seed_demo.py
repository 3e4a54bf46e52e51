"""Build demo data through the services. Each app contributes a `demo.py` with `seed(*, rng, stdout)`;
running it again changes nothing that is already there."""

import random

from django.core.management.base import BaseCommand
from django.db import transaction

from dlsc.demo import BUILDERS, logins


class Command(BaseCommand):
    help = "Load demo data (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=2020, help="random seed for reproducible demo data")

    def handle(self, *args, seed, **options):
        rng = random.Random(seed)
        for module in BUILDERS:
            self.stdout.write(f"{module.__name__}:")
            with transaction.atomic():
                module.seed(rng=rng, stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS("Demo data ready. Logins:"))
        for who, email, password in logins():
            self.stdout.write(f"  {who}: {email} / {password}")
