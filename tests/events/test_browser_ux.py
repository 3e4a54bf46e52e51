"""What a person sees on the event and matchmaking pages: where a failed sign-up lands, the cancel confirmation,
nothing wider than a 320 px phone, and a suggestion card's request button."""

import re

import pytest

from events import services
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
    assert 0 <= box["y"] < page.viewport_size["height"]
    assert_accessible(page)


def test_a_sign_up_with_a_bad_field_links_from_the_summary_to_the_field(page):
    event = EventFactory(capacity=20)
    page.goto(f"/da/events/{event.slug}/")
    fill_guest(page, email="not-an-email")
    page.wait_for_url(re.compile(r"#signup-errors$"))
    page.locator("#signup-errors a[href='#id_email']").click()
    assert page.evaluate("document.activeElement.id") == "id_email"
