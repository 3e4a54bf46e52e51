"""The admin index: every figure equals the rows it counts, and each links to the list it counts."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from hubs.models import Hub
from members.selectors import admin_dashboard
from outbox.models import OutboxMessage
from tests.factories import (
    CampaignFactory,
    EventFactory,
    EventRegistrationFactory,
    MembershipFactory,
    OrganisationFactory,
    member_organisation_create,
)
from tests.members.test_services import submit

pytestmark = pytest.mark.django_db


def bars(rows):
    return [(row["label"], row["count"]) for row in rows]


def test_members_by_size_counts_each_band(staff_client):
    # Names sort the bands apart: a count grouped by name as well as band would give 1 per organisation.
    for n, band in enumerate(["1-9", "1-9", "1-9", "10-49", "10-49", "250+"]):
        member_organisation_create(name=f"Firma {n}", size_band=band)
    OrganisationFactory(size_band="1-9")  # not a member
    dashboard = admin_dashboard(user=staff_client.staff)
    assert bars(dashboard["by_size"]) == [
        ("1-9 ansatte", 3),
        ("10-49 ansatte", 2),
        ("50-249 ansatte", 0),
        ("250+ ansatte", 1),
    ]
    assert dashboard["member_count"] == 6


def test_members_by_hub_and_segment_count_members_only(staff_client):
    from members.models import Segment

    aarhus, odense = Hub.objects.get(slug="aarhus"), Hub.objects.get(slug="odense")
    medtech, biotech = Segment.objects.get(code="medtech"), Segment.objects.get(code="biotech")
    for name, hub, segments in [("A", aarhus, [medtech]), ("B", aarhus, [medtech, biotech]), ("C", odense, [])]:
        member_organisation_create(name=name, hub=hub).segments.set(segments)
    OrganisationFactory(hub=aarhus).segments.set([medtech])  # not a member
    dashboard = admin_dashboard(user=staff_client.staff)
    by_hub = dict(bars(dashboard["by_hub"]))
    assert (by_hub[aarhus.name], by_hub[odense.name], sum(by_hub.values())) == (2, 1, 3)
    by_segment = dict(bars(dashboard["by_segment"]))
    assert (by_segment[medtech.name], by_segment[biotech.name], sum(by_segment.values())) == (2, 1, 3)


def test_expiring_counts_active_memberships_ending_within_30_days(staff_client):
    today = timezone.localdate()
    for days in (0, 10, 30):
        MembershipFactory(period_start=today - timedelta(days=300), period_end=today + timedelta(days=days))
    MembershipFactory(period_start=today - timedelta(days=300), period_end=today + timedelta(days=31))
    MembershipFactory(status="cancelled", period_start=today - timedelta(days=300), period_end=today + timedelta(5))
    dashboard = admin_dashboard(user=staff_client.staff)
    assert (dashboard["expiring_count"], len(dashboard["expiring"])) == (3, 3)


def figures(client) -> dict[str, tuple[int, str]]:
    """The "to act on" figures of the admin index: key -> (count, link)."""
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    return {figure["key"]: (figure["count"], figure["url"]) for figure in response.context["staff_figures"]}


def test_the_index_shows_what_staff_act_on_with_links_to_the_filtered_lists(staff_client):
    today = timezone.localdate()
    submit()
    submit(cvr="", country="SE", name="Svensk AB", contact_email="sven@svensk.example")
    MembershipFactory(period_start=today - timedelta(days=300), period_end=today + timedelta(days=7))
    full = EventFactory(capacity=1)
    EventRegistrationFactory(event=full)
    EventFactory(capacity=5)
    EventFactory(capacity=None)
    EventFactory(starts_at=timezone.now() - timedelta(days=2))  # over
    EventFactory(status="draft")
    CampaignFactory(status="sending")
    CampaignFactory(status="sent")
    for status in ("failed", "failed", "sent"):
        OutboxMessage.objects.create(
            template="t", to="a@example.com", language="da", subject="s", body_text="b", status=status
        )

    shown = figures(staff_client)

    assert shown["applications"][0] == 2
    assert shown["expiring"][0] == 1
    assert shown["events"][0] == 2
    assert shown["campaigns"][0] == 1
    assert shown["failed_mail"][0] == 2
    for key, (count, url) in shown.items():
        listed = staff_client.get(url)
        assert listed.status_code == 200, key
        assert listed.context["cl"].result_count == count, key


def test_hub_staff_see_their_hubs_figures_and_no_mail(hub_staff_client):
    EventFactory(hub=Hub.objects.get(slug="aarhus"))
    EventFactory(hub=Hub.objects.get(slug="odense"))
    shown = figures(hub_staff_client)
    assert shown["events"][0] == 1
    assert "failed_mail" not in shown
