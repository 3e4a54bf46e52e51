"""`manage.py seed_demo` lives with the project (dlsc), runs every app's demo builder in order and is idempotent."""

import io

import pytest
from django.core.management import call_command

from accounts.models import User
from billing.models import Invoice
from events.models import Event, MeetingRequest, Registration
from members.models import Organisation
from newsletters.models import Campaign, Subscriber

pytestmark = pytest.mark.django_db

MODELS = (User, Organisation, Event, Registration, MeetingRequest, Campaign, Subscriber, Invoice)


def _counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def test_seed_demo_runs_every_app_builder_in_order_prints_the_logins_and_adds_nothing_the_second_time():
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    first = _counts()
    assert first == {
        "User": 112,
        "Organisation": 59,
        "Event": 10,
        "Registration": 70,
        "MeetingRequest": 14,
        "Campaign": 3,
        "Subscriber": 30,
        "Invoice": 60,
    }
    call_command("seed_demo", stdout=io.StringIO())
    lines = out.getvalue().splitlines()
    assert [line for line in lines if line.endswith(".demo:")] == [
        "accounts.demo:",
        "hubs.demo:",
        "members.demo:",
        "events.demo:",
        "events.matchmaking.demo:",
        "newsletters.demo:",
    ]
    assert lines[-6:] == [
        "Demo data ready. Logins:",
        "  staff (admin, sets up TOTP at first visit): staff@dlsc.example / dlsc-demo-2026",
        "  member: member@dlsc.example / dlsc-demo-2026",
        "  hub staff, Aarhus (admin, TOTP at first visit): aarhus-staff@dlsc.example / dlsc-demo-2026",
        "  company admin: admin1@demo-company.example / dlsc-demo-2026",
        "  matchmaking participant: match1@dlsc.example / dlsc-demo-2026",
    ]
    assert _counts() == first
