"""The matchmaking demo data: requests in every state and a schedule, and a second run adds nothing."""

import io
import random

import pytest

from events.matchmaking import demo
from events.models import Meeting, MeetingRequest

pytestmark = pytest.mark.django_db


def test_demo_has_every_request_state_and_a_schedule_and_is_idempotent():
    demo.seed(rng=random.Random(1), stdout=io.StringIO())
    demo.seed(rng=random.Random(1), stdout=io.StringIO())
    states = set(MeetingRequest.objects.values_list("status", flat=True))
    assert (states, MeetingRequest.objects.count(), Meeting.objects.filter(slot__isnull=False).count()) == (
        {"pending", "accepted", "declined", "expired"},
        12,
        9,
    )
