"""Admin pages as staff see them at 1280 px: the key columns of the busiest change lists stay in the viewport, and a
mail in the outbox is shown rendered in a sandboxed frame beside its text part."""

import pytest

from outbox.api import mail_enqueue_later, mail_enqueue_rendered
from tests.browser.journeys import sideways_scroll, staff_log_in
from tests.conftest import axe_violations
from tests.factories import EventFactory, EventRegistrationFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONG_TITLE_DA = "Matchmaking: medtech møder hospitalerne og kommunerne om velfærdsteknologi i hele Region Hovedstaden"


def right_edges(page, column: str) -> list[float]:
    """The right edge of the column's header and of each of its cells."""
    boxes = [page.locator(f"th.column-{column}").bounding_box()]
    boxes += [cell.bounding_box() for cell in page.locator(f"td.field-{column}").all()]
    assert boxes and None not in boxes, f"column {column} is not shown"
    return [box["x"] + box["width"] for box in boxes]


def assert_within_viewport(page, columns: list[str]) -> None:
    for column in columns:
        assert max(right_edges(page, column)) <= 1280, column


@pytest.mark.parametrize("language", ["da", "en"])
def test_key_columns_of_events_registrations_and_outbox_fit_in_1280_px(page, language):
    event = EventFactory(title_da=LONG_TITLE_DA, title_en=LONG_TITLE_DA, capacity=120)
    EventRegistrationFactory(
        event=event, full_name="Maria Christina Frederiksen-Østergaard", email="copenhagen-network-0@demo.dlsc.example"
    )
    EventRegistrationFactory(event=event, status="waitlisted", confirmed_at=None)
    mail_enqueue_rendered(
        template="events/email/registration_confirmed",
        to="copenhagen-network-meeting-upcoming-0@demo.dlsc.example",
        language="da",
        subject="Du er tilmeldt: " + LONG_TITLE_DA,
        body_text="Hej\n",
    )
    mail_enqueue_later(  # a sign-up's mail, rendered by the worker: the list names its template
        renderer="events.registration_outcome",
        arguments={"registration": 1, "status": "waitlisted", "position": 2},
        template="events/email/registration_waitlisted",
        to="copenhagen-network-meeting-upcoming-1@demo.dlsc.example",
        language="da",
    )
    staff_log_in(page, language=language)

    page.goto(f"/{language}/admin/events/event/")
    assert_within_viewport(page, ["title", "starts_at", "status_column", "seats_column"])
    page.goto(f"/{language}/admin/events/registration/")
    assert_within_viewport(page, ["full_name", "event", "status_column", "attendance"])
    page.goto(f"/{language}/admin/outbox/outboxmessage/")
    assert_within_viewport(page, ["created_at", "to", "subject_shown", "status_badge"])
    assert page.console_errors == []


def test_outbox_message_page_shows_the_rendered_mail_in_a_sandboxed_frame_and_its_text_part(page, assert_accessible):
    message = mail_enqueue_rendered(
        template="newsletters/email/campaign",
        to="reader@example.com",
        language="da",
        subject="Nyt fra DLSC",
        body_text="Hej læser\n\nNyt fra DLSC.\n",
        body_html="<html><body><h1>Hej læser</h1><p>Nyt fra <strong>DLSC</strong>.</p></body></html>",
    )
    staff_log_in(page)
    page.goto(f"/da/admin/outbox/outboxmessage/{message.pk}/change/")

    frame = page.locator("iframe.mail-html")
    assert frame.get_attribute("sandbox") == ""
    assert frame.get_attribute("title") == "HTML-del af mailen"
    document = page.frame_locator("iframe.mail-html")
    assert document.locator("h1").inner_text() == "Hej læser"
    assert document.locator("strong").inner_text() == "DLSC"
    assert page.locator("pre.mail-text").inner_text() == "Hej læser\n\nNyt fra DLSC.\n"
    # The page shows the mail, not its source.
    assert "<strong>" not in page.locator("#content-main").inner_text()
    assert_accessible(page)
    assert page.console_errors == []


# The event image's label, by language.
IMAGE_LABEL = {"da": "Billede", "en": "Image"}


@pytest.mark.parametrize("language", ["da", "en"])
def test_change_forms_with_files_choices_and_inlines_fit_a_phone_and_pass_axe(browser, live_server, language):
    """At 320 px the event form (partners, image, a registrations table wider than the phone), an organisation
    (segments, logo), a partner (logo) and a hub (contact photos) never push the page sideways and pass axe: the
    table scrolls in a region a keyboard reaches, every file input has a label, choices are checkboxes."""
    from hubs.models import Hub
    from members.models import Partner
    from tests.factories import OrganisationFactory

    event = EventFactory()
    EventRegistrationFactory(event=event, full_name="Maria Christina Frederiksen-Østergaard")
    organisation = OrganisationFactory()
    partner = Partner.objects.order_by("pk").first()
    hub = Hub.objects.get(slug="copenhagen")
    context = browser.new_context(base_url=live_server.url, viewport={"width": 320, "height": 800})
    page = context.new_page()
    staff_log_in(page, language=language)
    problems = []
    for path in (
        "admin/events/event/add/",
        f"admin/events/event/{event.pk}/change/",
        f"admin/members/organisation/{organisation.pk}/change/",
        f"admin/members/partner/{partner.pk}/change/",
        f"admin/hubs/hub/{hub.pk}/change/",
    ):
        page.goto(f"/{language}/{path}")
        if overflow := sideways_scroll(page):
            problems.append(f"{path}: {overflow}")
        if violations := axe_violations(page):
            problems.append(f"{path}: {violations}")
    assert problems == []
    page.goto(f"/{language}/admin/events/event/{event.pk}/change/")
    assert page.locator("input[type=file]#id_image").evaluate("(input) => input.labels[0].textContent") == (
        IMAGE_LABEL[language] + ":"
    )
    assert page.locator("input[type=checkbox][name=partners]").count() == Partner.objects.count()
    registrations = page.locator(".inline-group .wrapper[role=region][tabindex='0']")
    assert registrations.evaluate("(region) => region.scrollWidth > region.clientWidth") is True
    context.close()
