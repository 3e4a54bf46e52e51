"""A hub's page: its upcoming events, its contacts, how many members it serves, its regions on a shipped map of
Denmark, and its calendar feed."""

from datetime import timedelta

import pytest
from django.utils import timezone

from hubs.models import Hub, HubContact
from tests.factories import EventFactory, MembershipFactory, OrganisationFactory

pytestmark = pytest.mark.django_db


def hub(slug):
    return Hub.objects.get(slug=slug)


def test_hub_page_lists_only_its_own_upcoming_events(client):
    EventFactory(title_da="Netværk i Odense", hub=hub("odense"))
    EventFactory(title_da="Netværk i Aarhus", hub=hub("aarhus"))
    EventFactory(title_da="Forbi i Odense", hub=hub("odense"), starts_at=timezone.now() - timedelta(days=3))
    html = client.get("/da/hubs/odense/").content.decode()
    assert "Netværk i Odense" in html
    assert "Netværk i Aarhus" not in html
    assert "Forbi i Odense" not in html


def test_hub_page_without_events_says_so(client):
    html = client.get("/en/hubs/aalborg/").content.decode()
    assert "The hub has no upcoming events just now." in html


@pytest.mark.parametrize(
    ("members", "language", "text"),
    [
        (1, "da", "Hubben betjener <strong>1</strong> medlemsvirksomhed."),
        (2, "da", "Hubben betjener <strong>2</strong> medlemsvirksomheder."),
        (1, "en", "The hub serves <strong>1</strong> member company."),
        (0, "en", "The hub serves <strong>0</strong> member companies."),
    ],
)
def test_hub_page_counts_its_members(client, members, language, text):
    for _ in range(members):
        MembershipFactory(organisation=OrganisationFactory(hub=hub("aarhus")))
    MembershipFactory(organisation=OrganisationFactory(hub=hub("odense")))
    MembershipFactory(organisation=OrganisationFactory(hub=hub("aarhus")), status="lapsed")
    assert text in client.get(f"/{language}/hubs/aarhus/").content.decode()


def test_hub_page_shows_its_contacts_with_name_role_and_photo_or_initials(client):
    HubContact.objects.create(
        hub=hub("odense"), name="Sofie Holm", role_da="Hubleder", role_en="Hub lead", email="sh@dlsc.example"
    )
    HubContact.objects.create(
        hub=hub("odense"),
        name="Jonas Berg",
        role_da="Projektleder",
        role_en="Project lead",
        photo="hubs/contacts/jb.jpg",
    )
    html = client.get("/en/hubs/odense/").content.decode()
    assert '<p class="hub-contact-name">Sofie Holm</p>' in html
    assert '<p class="muted">Hub lead</p>' in html
    assert '<span class="hub-contact-photo hub-contact-initials" aria-hidden="true">SH</span>' in html
    assert '<img class="hub-contact-photo" src="/media/hubs/contacts/jb.jpg" alt="" width="72" height="72">' in html


def test_hub_page_marks_its_regions_on_the_shipped_map(client):
    html = client.get("/da/hubs/copenhagen/").content.decode()
    assert html.count('<path class="region') == 5
    assert html.count('<path class="region region-served"') == 2
    assert '<path class="region region-served" data-region="hovedstaden"' in html
    assert '<path class="region region-served" data-region="sjaelland"' in html
    assert '<path class="region" data-region="nordjylland"' in html
    assert "http" not in html[html.index("<svg") : html.index("</svg>")].replace(
        'xmlns="http://www.w3.org/2000/svg"', ""
    )


def test_hub_page_links_its_calendar_feed(client):
    html = client.get("/da/hubs/aarhus/").content.decode()
    assert '<a href="/da/events/hub/aarhus/calendar.ics">' in html
    feed = client.get("/da/events/hub/aarhus/calendar.ics")
    assert (feed.status_code, feed["Content-Type"].split(";")[0]) == (200, "text/calendar")


QUERIES = 6  # hub, regions, contacts, events, member count, all regions for the map


@pytest.mark.parametrize("events", [1, 4])
def test_hub_page_queries_do_not_grow_with_events_or_contacts(client, django_assert_num_queries, events):
    for n in range(events):
        EventFactory(hub=hub("odense"))
        HubContact.objects.create(hub=hub("odense"), name=f"Person {n}", role_da="Rolle", role_en="Role")
    with django_assert_num_queries(QUERIES):
        assert client.get("/da/hubs/odense/").status_code == 200
