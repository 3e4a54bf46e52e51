"""The event's change form in Chromium: the status select offers only the moves the rules allow, cancelling from it
with a message tells the registrants, and a cancelled event shows its status and message read-only; at 1280 and
320 px, in both languages, without console errors."""

import os

import pytest

from events.models import Event
from outbox.models import OutboxMessage
from tests.browser.journeys import staff_log_in
from tests.factories import EventFactory, EventRegistrationFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = os.environ.get("ADMIN_SHOTS")  # a folder: save what the test saw, to look at


def shoot(page, name):
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


@pytest.mark.parametrize("width", [1280, 320])
@pytest.mark.parametrize("language", ["da", "en"])
def test_cancelling_from_the_status_select_with_a_message(page, language, width):
    page.set_viewport_size({"width": width, "height": 900})
    event = EventFactory(title_da="Sensordag", title_en="Sensor day")
    EventRegistrationFactory(event=event, email="guest@example.com")
    staff_log_in(page, language=language)
    page.goto(f"/{language}/admin/events/event/{event.pk}/change/")
    options = page.locator("select#id_status option").evaluate_all("options => options.map(o => o.value)")
    assert options == ["published", "cancelled"]
    shoot(page, f"event-change-{language}-{width}")

    page.select_option("select#id_status", "cancelled")
    page.fill("textarea#id_cancellation_message", "The venue is flooded.")
    page.click("input[name=_continue]")
    page.wait_for_selector("ul.messagelist li.success")
    event.refresh_from_db()
    assert (event.status, event.cancellation_reason) == (Event.Status.CANCELLED, "The venue is flooded.")
    assert OutboxMessage.objects.filter(template="events/email/event_cancelled", to="guest@example.com").count() == 1
    assert page.locator("select#id_status").count() == 0
    assert "The venue is flooded." in page.locator(".field-cancellation_reason").inner_text()
    shoot(page, f"event-cancelled-{language}-{width}")
    assert page.console_errors == []
