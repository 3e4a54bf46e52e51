"""Print where the demo runs and its logins, after the worker has delivered what the seed queued (`make run`)."""

import time

from django.conf import settings
from django.core.management.base import BaseCommand

from dlsc.demo import logins
from outbox.api import outbox_backlog


class Command(BaseCommand):
    help = "Print the demo logins once the outbox backlog is empty (or after --wait seconds)."

    def add_arguments(self, parser):
        parser.add_argument("--wait", type=float, default=0, help="Seconds to wait at most for the worker.")

    def handle(self, *args, wait: float, **options):
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and _waiting() > 0:
            time.sleep(1)
        self.stdout.write("")
        self.stdout.write(f"DLSC portal: {settings.SITE_URL}/ (mail is kept in the admin's outbox, not printed)")
        for who, email, password in logins():
            self.stdout.write(f"  {who}: {email} / {password}")


def _waiting() -> int:
    backlog = outbox_backlog()
    return backlog["queued"] + backlog["retrying"] + backlog["sending"]
