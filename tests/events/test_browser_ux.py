"""What a person sees on the event and matchmaking pages: where a failed sign-up lands, the cancel confirmation,
nothing wider than a 320 px phone, and a suggestion card's request button."""

import re

import pytest

from events import services
from tests.browser.journeys import sideways_scroll
from tests.factories import EventFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fill_guest(page, *, email):
    page.fill("#id_full_name", "Gry Gæst")
    page.fill("#id_email", email)
    page.fill("#id_organisation_name", "Gæst ApS")
    page.check("#id_consent")
    page.get_by_role("button", name="Tilmeld", exact=True).click()


def test_a_duplicate_sign_up_lands_on_the_error_summary_with_focus(page, assert_accessible):
    event = EventFactory(capacity=20, body_da="Program\n\n" + "Et langt punkt på programmet.\n\n" * 40)
    services.registration_create(event=event, full_name="Gry", email="gry@example.com", language="da")
    page.goto(f"/da/events/{event.slug}/")
    fill_guest(page, email="gry@example.com")
    page.wait_for_url(re.compile(r"/register/#signup-errors$"))
    summary = page.locator("#signup-errors")
    assert "allerede tilmeldt" in summary.inner_text()
    assert page.evaluate("document.activeElement.id") == "signup-errors"
    box = summary.bounding_box()
    # Scrolled to the summary: its top edge sits at the top of the viewport (to a sub-pixel) and it is in view.
    assert -1 < box["y"] < page.viewport_size["height"]
    assert_accessible(page)


def test_a_sign_up_with_a_bad_field_links_from_the_summary_to_the_field(page):
    event = EventFactory(capacity=20)
    page.goto(f"/da/events/{event.slug}/")
    fill_guest(page, email="not-an-email")
    page.wait_for_url(re.compile(r"#signup-errors$"))
    page.locator("#signup-errors a[href='#id_email']").click()
    assert page.evaluate("document.activeElement.id") == "id_email"


def act_as(page, live_server, user):
    """Log the browser in as `user` by handing it a session the test client made."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    page.context.clear_cookies()
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )


def matchmaking_world(*, long_names: bool = False):
    from events.matchmaking import services as matchmaking
    from members.models import Tag
    from tests.factories import MatchmakingEventFactory, StaffFactory, matchmaking_profile

    event = MatchmakingEventFactory()
    matchmaking.session_create(event=event, starts_at=event.starts_at, slot_minutes=30, slot_count=3)
    tag = Tag.objects.create(slug="klinisk-validering", name="Klinisk validering")
    me = matchmaking_profile(event=event, full_name="Mette Holm", organisation_name="Holm Medico ApS")
    me.seek_tags.add(tag)
    name = "Jonas Friis-Christiansen-Møllerhøj" if long_names else "Jonas Friis"
    helper = matchmaking_profile(event=event, full_name=name, organisation_name="Rigshospitalets Forskningsenhed")
    helper.offer_tags.add(tag)
    asker = matchmaking_profile(event=event, full_name="Sofie Brandt-Nielsen", organisation_name="Brandt Diagnostics")
    request = matchmaking.request_send(
        sender=asker, recipient=me, message="Vi vil gerne høre om jeres erfaringer med kliniske forsøg på hospitaler."
    )
    matchmaking.request_decline(request=request, by=me.user)
    accepted = matchmaking.request_send(sender=me, recipient=asker, message="Skal vi tage en snak om regulering?")
    matchmaking.request_accept(request=accepted, by=asker.user)
    matchmaking.schedule_run(event=event, by=StaffFactory(), time_limit=2)
    return event, me, helper


def no_sideways_scroll(page, path):
    page.goto(path)
    assert (path, sideways_scroll(page)) == (path, "")


@pytest.fixture
def phone(browser, live_server):
    """A page opened at 320 px from the start, as on a phone (not a desktop page resized)."""
    context = browser.new_context(base_url=live_server.url, locale="da-DK", viewport={"width": 320, "height": 640})
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def test_no_event_page_scrolls_sideways_on_a_320_px_phone(phone):
    event = EventFactory(capacity=20, venue_address="Ole Maaløes Vej 3, 2200 København N")
    registration = services.registration_create(event=event, full_name="Gry", email="gry@example.com", language="da")
    token = services.registration_token(registration)
    for path in (
        "/da/events/",
        f"/da/events/{event.slug}/",
        f"/da/events/registration/{token}/",
        f"/da/events/registration/{token}/cancel/",
        "/en/events/",
        f"/en/events/{event.slug}/",
    ):
        no_sideways_scroll(phone, path)
    phone.goto(f"/da/events/{event.slug}/")
    fill_guest(phone, email="gry@example.com")
    phone.wait_for_url(re.compile(r"#signup-errors$"))
    assert sideways_scroll(phone) == ""


def test_no_matchmaking_page_scrolls_sideways_on_a_320_px_phone(phone, live_server):
    event, me, helper = matchmaking_world(long_names=True)
    act_as(phone, live_server, me.user)
    for page_path in ("", "me/", f"people/{helper.pk}/", "suggestions/", "requests/", "agenda/"):
        no_sideways_scroll(phone, f"/da/matchmaking/{event.slug}/{page_path}")
    no_sideways_scroll(phone, "/da/matchmaking/")


def test_the_request_button_on_a_suggestion_card_sends_a_request(page, live_server, assert_accessible):
    from events.models import MeetingRequest

    event, me, helper = matchmaking_world()
    act_as(page, live_server, me.user)
    page.goto(f"/da/matchmaking/{event.slug}/suggestions/")
    assert_accessible(page)
    card = page.locator(".card", has_text="Jonas Friis")
    card.get_by_role("link", name="Bed om et møde").click()
    page.get_by_label("Hvorfor vil du gerne mødes?").fill("Vi vil gerne validere vores scanner hos jer.")
    page.get_by_role("button", name="Send anmodning").click()
    page.get_by_text("Din anmodning er sendt.").wait_for()
    assert MeetingRequest.objects.filter(sender=me, recipient=helper, status="pending").count() == 1
