"""The newsletters demo data: its past campaigns read as delivered on the day they went out, and nothing is mailed."""

import io
import random

import pytest
from django.db.models import F

from newsletters import demo
from newsletters.models import Campaign, Delivery

pytestmark = pytest.mark.django_db


def test_demo_marks_the_copies_of_its_past_campaigns_sent_when_the_campaign_finished():
    demo.seed(rng=random.Random(1), stdout=io.StringIO())
    copies = Delivery.objects.filter(campaign__status=Campaign.Status.SENT)
    assert copies.count() == 6
    assert list(copies.values_list("message__status", "message__attempts").distinct()) == [("sent", 1)]
    assert copies.exclude(message__sent_at=F("campaign__finished_at")).count() == 0
