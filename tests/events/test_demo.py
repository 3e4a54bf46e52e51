"""The events demo data."""

import io
import random

import pytest
from django.db.models import Count, Q

from events import demo
from events.models import Event, Registration
from hubs.models import Hub
from tests.factories import event_hub

pytestmark = pytest.mark.django_db


def test_demo_has_upcoming_and_past_events_in_every_hub_a_full_one_and_matchmaking():
    for slug in ("copenhagen", "aarhus", "odense", "aalborg"):
        event_hub(slug)
    demo.seed(rng=random.Random(1), stdout=io.StringIO())
    for hub in Hub.objects.all():
        assert hub.events.filter(slug__endswith="-past").exists()
        assert hub.events.filter(slug__endswith="-upcoming").exists()
    full = Event.objects.annotate(
        confirmed=Count("registrations", filter=Q(registrations__status=Registration.Status.CONFIRMED)),
        waiting=Count("registrations", filter=Q(registrations__status=Registration.Status.WAITLISTED)),
    ).get(slug="matchmaking-medtech-full")
    assert (full.kind, full.confirmed, full.waiting) == ("matchmaking", 8, 4)


def test_demo_is_idempotent():
    demo.seed(rng=random.Random(1), stdout=io.StringIO())
    counts = (Event.objects.count(), Registration.objects.count())
    demo.seed(rng=random.Random(2), stdout=io.StringIO())
    assert (Event.objects.count(), Registration.objects.count()) == counts
