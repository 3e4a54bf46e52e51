"""The matchmaking participant's journey in a real browser, in both languages and at both widths: edit the profile,
ask for a meeting from a suggestion card, the other side accepts, and the agenda shows the placed meeting; no page
scrolls sideways, none logs a console error, each passes axe-core."""

import pytest

from tests.browser.journeys import act_as, sideways_scroll
from tests.factories import MatchmakingEventFactory, StaffFactory, matchmaking_profile

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WORDS = {
    "da": {
        "saved": "Din matchmaking-profil er gemt.",
        "ask": "Bed om et møde",
        "why": "Hvorfor vil du gerne mødes?",
        "send": "Send anmodning",
        "sent": "Din anmodning er sendt.",
        "accept": "Accepter",
        "accepted": "Du har accepteret mødet.",
    },
    "en": {
        "saved": "Your matchmaking profile is saved.",
        "ask": "Ask for a meeting",
        "why": "Why would you like to meet?",
        "send": "Send request",
        "sent": "Your request is sent.",
        "accept": "Accept",
        "accepted": "You accepted the meeting.",
    },
}


def check(page, assert_accessible, width):
    assert (page.url, page.viewport_size["width"], sideways_scroll(page)) == (page.url, width, "")
    assert page.console_errors == [], page.url
    assert_accessible(page)


@pytest.mark.parametrize(("language", "width"), [("da", 1280), ("en", 320), ("da", 320), ("en", 1280)])
def test_profile_request_from_a_suggestion_accept_and_agenda(page, live_server, assert_accessible, language, width):
    from events.matchmaking import services
    from events.models import Meeting
    from members.models import Tag

    page.set_viewport_size({"width": width, "height": 800})
    words = WORDS[language]
    event = MatchmakingEventFactory()
    services.session_create(event=event, starts_at=event.starts_at, slot_minutes=30, slot_count=3)
    tag = Tag.objects.create(slug="klinisk-validering", name="Klinisk validering")
    me = matchmaking_profile(
        event=event, full_name="Mette Holm", organisation_name="Holm Medico ApS", language=language
    )
    me.seek_tags.add(tag)
    helper = matchmaking_profile(event=event, full_name="Jonas Friis", organisation_name="Rigshospitalet")
    helper.offer_tags.add(tag)

    act_as(page, live_server, me.user)
    page.goto(f"/{language}/matchmaking/{event.slug}/me/")
    page.fill("#id_profile-headline_da", "Vi søger klinisk validering")
    page.fill("#id_profile-headline_en", "We look for clinical validation")
    page.locator("main form button[type=submit]").click()
    page.get_by_text(words["saved"]).wait_for()
    check(page, assert_accessible, width)

    page.goto(f"/{language}/matchmaking/{event.slug}/suggestions/")
    check(page, assert_accessible, width)
    page.locator(".card", has_text="Jonas Friis").get_by_role("link", name=words["ask"]).click()
    page.get_by_label(words["why"]).fill("Vi vil gerne validere vores scanner hos jer.")
    page.get_by_role("button", name=words["send"]).click()
    page.get_by_text(words["sent"]).wait_for()
    check(page, assert_accessible, width)

    act_as(page, live_server, helper.user)
    page.goto(f"/{language}/matchmaking/{event.slug}/requests/")
    check(page, assert_accessible, width)
    page.get_by_role("button", name=words["accept"]).click()
    page.get_by_text(words["accepted"]).wait_for()

    services.schedule_run(event=event, by=StaffFactory(), time_limit=2)
    meeting = Meeting.objects.get(event=event)
    act_as(page, live_server, me.user)
    page.goto(f"/{language}/matchmaking/{event.slug}/agenda/")
    assert "Jonas Friis" in page.locator("main").inner_text()
    check(page, assert_accessible, width)
    assert (meeting.request.sender_id, meeting.request.recipient_id, meeting.slot is not None) == (
        me.pk,
        helper.pk,
        True,
    )
