"""The benches build their data with today's models: a bench whose builder breaks (a field that became required, a
model that moved) fails here, in `make test`, rather than first in `make bench` (bench/directory.py did, when
memberships came to need a type)."""

import importlib.util
from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from events.models import Event
from members.models import Membership
from newsletters.models import Subscriber
from tests.factories import TopicFactory

pytestmark = pytest.mark.django_db

BENCH = Path(__file__).resolve().parents[2] / "bench"


def bench_module(name: str):
    """A bench script as a module, without running its main()."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_directory_bench_seeds_members_the_directory_finds_as_its_facts_say(monkeypatch):
    directory = bench_module("directory")
    monkeypatch.setattr(directory, "ORGANISATIONS", 40)
    facts = directory.seed()
    assert Membership.objects.filter(status="active", membership_type__slug="company").count() == 40
    for params in ({"q": "robotter"}, {"size_band": "10-49"}, {"q": "data", "hub": facts[0]["hub"]}):
        query = "&".join(f"{name}={value}" for name, value in params.items())
        body = Client().get(f"/da/members/?{query}").content.decode()
        assert (params, directory.matches_reported(body)) == (params, directory.expected_count(facts, params))
    assert directory.expected_count(facts, {"size_band": "10-49"}) == 10


def test_the_invoices_bench_seeds_memberships_due_for_their_renewal_invoice():
    invoices = bench_module("invoices")
    today = timezone.localdate()
    invoices.members_create(count=3, today=today)
    ends = [m.period_end for m in Membership.objects.filter(membership_type__slug="bench-member")]
    assert ends == [today + timedelta(days=10)] * 3


def test_the_newsletter_and_signup_benches_build_their_readers_and_their_event():
    newsletter = bench_module("newsletter")
    topic = TopicFactory(slug="bench")
    newsletter.subscribers_create(topic=topic, count=5)
    assert Subscriber.objects.filter(topics=topic, status=Subscriber.Status.CONFIRMED).count() == 5
    event = bench_module("signup_race").event_create(capacity=7)
    assert (event.status, event.capacity, event.registration_is_open()) == (Event.Status.PUBLISHED, 7, True)
