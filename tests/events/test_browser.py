"""Browser journeys through the event pages in both languages, checked with axe-core and for CSP errors."""

import re

import pytest

from events.models import Answer, Registration
from outbox.models import OutboxMessage
from tests.browser.journeys import log_in, submit
from tests.factories import (
    PASSWORD,
    EventFactory,
    EventQuestionOptionFactory,
    EventRegistrationFactory,
    StaffFactory,
    staff_totp_activate,
    totp_code,
)
from tests.support.mail import rendered

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXTS = {
    "da": {
        "submit": "Tilmeld",
        "cancel": "Afmeld min tilmelding",
        "confirm_cancel": "Ja, afmeld min tilmelding",
        "cancelled": "Afmeldt",
        "confirmed": "Bekræftet",
    },
    "en": {
        "submit": "Sign up",
        "cancel": "Cancel my registration",
        "confirm_cancel": "Yes, cancel my registration",
        "cancelled": "Cancelled",
        "confirmed": "Confirmed",
    },
}


def no_csp_errors(page):
    assert [error for error in page.console_errors if "Content Security Policy" in error] == []


@pytest.mark.parametrize("language", ["da", "en"])
def test_guest_signs_up_reads_the_confirmation_and_cancels_through_its_link(page, assert_accessible, language):
    event = EventFactory(capacity=20)
    texts = TEXTS[language]
    title = getattr(event, f"title_{language}")
    page.goto(f"/{language}/events/{event.slug}/")
    assert_accessible(page)
    page.fill("#id_full_name", "Gry Gæst")
    page.fill("#id_email", "gry@example.com")
    page.fill("#id_organisation_name", "Gæst ApS")
    page.check("#id_consent")
    page.get_by_role("button", name=texts["submit"], exact=True).click()
    page.wait_for_url(re.compile(r"/events/registration/"))
    assert page.locator("#registration-status").inner_text().startswith(texts["confirmed"])
    assert_accessible(page)

    body = rendered(OutboxMessage.objects.get(to="gry@example.com")).body_text
    link = re.search(r"http://127\.0\.0\.1:8000(/\w\w/events/registration/\S+/)", body).group(1)
    page.goto(link)
    page.get_by_role("link", name=texts["cancel"]).click()
    page.wait_for_url(re.compile(r"/cancel/$"))
    assert title in page.locator("h1").inner_text()
    assert Registration.objects.get(email="gry@example.com").status == "confirmed"
    assert_accessible(page)
    page.get_by_role("button", name=texts["confirm_cancel"]).click()
    page.wait_for_url(re.compile(r"/events/registration/[^/]+/$"))
    assert page.locator("#registration-status").inner_text().startswith(texts["cancelled"])
    no_csp_errors(page)


def test_member_signs_up_from_their_account_in_one_click(page, assert_accessible, member_user):
    event = EventFactory(title_da="Medlemsmøde", audience="members")
    page.goto("/da/accounts/login/")
    page.fill("input[name=login]", member_user.email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(re.compile(r"/da/account/"))
    page.goto(f"/da/events/{event.slug}/")
    page.get_by_role("button", name="Tilmeld mig").click()
    page.wait_for_url(re.compile(r"/events/registration/"))
    page.goto("/da/account/")
    section = page.locator("#my-registrations-heading").locator("xpath=..")
    assert "Medlemsmøde" in section.inner_text()
    assert "Bekræftet" in section.inner_text()
    assert_accessible(page)
    no_csp_errors(page)


def test_a_full_event_offers_the_waitlist(page, assert_accessible):
    event = EventFactory(capacity=1)
    EventRegistrationFactory(event=event)
    option = EventQuestionOptionFactory(
        question__event=event, question__kind="multiple", question__required=True, label_en="Partners"
    )
    page.goto(f"/en/events/{event.slug}/")
    assert "Full. New sign-ups go on the waitlist." in page.locator("#seats").inner_text()
    page.get_by_role("group", name=f"{option.question.label_en} *").get_by_label("Partners").check()
    page.fill("#id_full_name", "Wanda Wait")
    page.fill("#id_email", "wanda@example.com")
    page.fill("#id_organisation_name", "Wait Ltd")
    page.check("#id_consent")
    page.get_by_role("button", name="Sign up", exact=True).click()
    page.wait_for_url(re.compile(r"/events/registration/"))
    assert "You are number 1 on the waitlist." in page.locator("#registration-status").inner_text()
    assert list(Answer.objects.values_list("options__label_en", flat=True)) == ["Partners"]
    assert_accessible(page)
    no_csp_errors(page)


def test_event_list_is_accessible(page, assert_accessible):
    EventFactory()
    page.goto("/da/events/")
    assert_accessible(page)
    no_csp_errors(page)


def test_door_check_in_on_a_phone(page, assert_accessible):
    staff = StaffFactory()
    secret = staff_totp_activate(staff)
    event = EventFactory()
    EventRegistrationFactory(event=event, full_name="Dora Door")
    EventRegistrationFactory(event=event, full_name="Other Person")
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, email=staff.email, language="en")
    page.wait_for_url("**/en/accounts/2fa/authenticate/")
    page.locator("#id_code").fill(totp_code(secret))
    submit(page)
    page.goto(f"/en/events/{event.slug}/check-in/")
    page.fill("#checkin-q", "dora")
    assert page.locator(".checkin-row:visible").count() == 1
    page.get_by_role("button", name="Check in Dora Door").click()
    page.wait_for_load_state()
    assert page.locator("#checkin-count").inner_text() == "1 of 2 checked in"
    assert_accessible(page)
    no_csp_errors(page)
