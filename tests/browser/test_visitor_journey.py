"""The visitor's journey in a real browser, in both languages and at both widths: search the directory, sign up for
an event with a mistake first, cancel after a confirmation, subscribe to the newsletter and confirm from the mail.
Every page fits the screen, logs no console error and passes axe-core."""

import re

import pytest

from tests.factories import EventFactory, TopicFactory, member_organisation_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def check(page, assert_accessible, width, *, answered_400=False):
    """The page fits, logs nothing and passes axe. A form sent back with errors answers 400 by design, and Chromium
    logs that status as a console error; nothing else may appear."""
    expected = (
        ["Failed to load resource: the server responded with a status of 400 (Bad Request)"] if answered_400 else []
    )
    assert page.evaluate("document.documentElement.scrollWidth") == width, page.url
    assert page.console_errors == expected, page.url
    page.console_errors.clear()
    assert_accessible(page)


@pytest.mark.parametrize(("language", "width"), [("da", 1280), ("en", 320), ("da", 320), ("en", 1280)])
def test_directory_sign_up_cancel_and_newsletter(page, assert_accessible, language, width):
    from events.models import Registration
    from newsletters.models import Subscriber
    from outbox.models import OutboxMessage

    page.set_viewport_size({"width": width, "height": 800})
    from members.models import Organisation
    from members.services import organisation_search_refresh

    member_organisation_create(name="Solsikke Health ApS", slug="solsikke-health")
    member_organisation_create(name="Havbrise Diagnostics ApS", slug="havbrise")
    organisation_search_refresh(organisation_ids=Organisation.objects.values_list("pk", flat=True))
    event = EventFactory(capacity=20)
    TopicFactory(slug="events", name_da="Arrangementer", name_en="Events")

    # The directory: a search narrows the list to the one company.
    page.goto(f"/{language}/members/")
    page.fill("input[name=q]", "Solsikke")
    page.press("input[name=q]", "Enter")
    page.wait_for_url(re.compile(r"q=Solsikke"))
    results = page.locator("main").inner_text()
    assert (results.count("Solsikke Health ApS") >= 1, results.count("Havbrise")) == (True, 0)
    check(page, assert_accessible, width)

    # Sign-up with a wrong address first: the page lands on the error summary, then the corrected form registers.
    page.goto(f"/{language}/events/{event.slug}/")
    page.fill("#id_full_name", "Gry Gæst")
    page.fill("#id_email", "not-an-email")
    page.fill("#id_organisation_name", "Gæst ApS")
    page.check("#id_consent")
    page.locator("form[action*='/register/'] button[type=submit]").click()
    page.wait_for_url(re.compile(r"#signup-errors$"))
    check(page, assert_accessible, width, answered_400=True)
    page.fill("#id_email", "gry@example.com")
    page.check("#id_consent")
    page.locator("form[action*='/register/'] button[type=submit]").click()
    # The browser keeps the form action's fragment across the redirect, to the page marked as just registered.
    page.wait_for_url(re.compile(r"/events/registration/[^/#?]+/\?new=1(#signup-errors)?$"))
    told = {"da": "Du er tilmeldt. Vi har sendt en bekræftelse på e-mail.", "en": "You are registered."}
    assert page.locator(".messages").inner_text().startswith(told[language])
    check(page, assert_accessible, width)

    # Cancelling asks first; only the confirmation cancels.
    page.locator("a[href$='/cancel/']").click()
    page.wait_for_url(re.compile(r"/cancel/$"))
    assert Registration.objects.get(email="gry@example.com").status == "confirmed"
    check(page, assert_accessible, width)
    page.locator("form[action$='/cancel/'] button[type=submit]").click()
    page.wait_for_load_state()
    assert Registration.objects.get(email="gry@example.com").status == "cancelled"
    check(page, assert_accessible, width)

    # The newsletter: subscribe, then confirm through the link in the mail.
    page.goto(f"/{language}/newsletter/")
    page.fill("#id_email", "laeser@example.com")
    page.locator("input[name=topics]").first.check()
    page.check("#id_consent")
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    check(page, assert_accessible, width)
    body = OutboxMessage.objects.get(to="laeser@example.com", template="newsletters/email/confirm").body_text
    # The mail links to SITE_URL; the live server has its own address, so the browser follows the link's path.
    page.goto(re.search(r"https?://[^/\s]+(/\S+/newsletter/confirm/\S+)", body).group(1))
    check(page, assert_accessible, width)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    assert Subscriber.objects.get(email="laeser@example.com").status == "confirmed"
    check(page, assert_accessible, width)
