"""The staff journey in a real browser, in both languages and at both widths: log in with a password and a TOTP
code, approve an application from its own page after the confirmation, edit and save a campaign, send a test copy,
send it after the confirmation, and check a guest in at the door. No page logs a console error, none scrolls
sideways, and the pages staff use in front of others (confirmations, the door) pass axe-core."""

import pytest
from django.utils import timezone

from tests.browser.journeys import log_in, sideways_scroll, submit
from tests.factories import (
    CampaignFactory,
    EventFactory,
    EventRegistrationFactory,
    StaffFactory,
    SubscriberFactory,
    TopicFactory,
    cvr_valid,
    staff_totp_activate,
    totp_code,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def check(page, width, assert_accessible=None):
    assert (page.url, page.viewport_size["width"], sideways_scroll(page)) == (page.url, width, "")
    assert page.console_errors == [], page.url
    if assert_accessible is not None:
        assert_accessible(page)


@pytest.mark.parametrize(("language", "width"), [("da", 1280), ("en", 320), ("da", 320), ("en", 1280)])
def test_approve_edit_test_send_send_and_check_in(page, assert_accessible, language, width):
    from hubs.models import Region
    from members.models import MembershipApplication, Organisation
    from newsletters.models import Campaign
    from outbox.models import OutboxMessage

    page.set_viewport_size({"width": width, "height": 900})
    staff = StaffFactory(email="signe@dlsc.example", preferred_language=language)
    secret = staff_totp_activate(staff)
    application = MembershipApplication.objects.create(
        name="Nordlys Diagnostics",
        legal_name="Nordlys Diagnostics ApS",
        cvr=cvr_valid(777),
        size_band="10-49",
        city="Aalborg",
        region=Region.objects.get(code="nordjylland"),
        contact_name="Nina Nordlys",
        contact_email="nina@nordlys.example",
        terms_accepted_at=timezone.now(),
    )
    topic = TopicFactory(slug="nyt", name_da="Nyhedsbrevet", name_en="The newsletter")
    SubscriberFactory(topics=[topic])
    SubscriberFactory(topics=[topic])
    campaign = CampaignFactory(topics=[topic], subject_da="Udkast", subject_en="Draft")
    event = EventFactory()
    EventRegistrationFactory(event=event, full_name="Dora Door")

    log_in(page, email=staff.email, language=language)
    page.locator("#id_code").fill(totp_code(secret))
    submit(page)

    # Approve from the application's page, after a confirmation that names the terms.
    page.goto(f"/{language}/admin/members/membershipapplication/{application.pk}/change/")
    check(page, width)
    page.click("a.decide-approve")
    page.locator(".approval-terms").wait_for()
    check(page, width, assert_accessible)
    page.click("input[name=approve]")
    page.wait_for_selector("ul.messagelist li.success")
    assert Organisation.objects.get(name="Nordlys Diagnostics").hub.slug == "aalborg"

    # Edit and save the campaign, send a test copy, then send it after the confirmation.
    change = f"/{language}/admin/newsletters/campaign/{campaign.pk}/change/"
    page.goto(change)
    page.fill("input[name=subject_da]", "Nyt fra klyngen")
    page.fill("input[name=subject_en]", "News from the cluster")
    page.click("input[name=_continue]")
    page.wait_for_selector("ul.messagelist li.success")
    check(page, width)
    page.click("form[action$='/control/test/'] button")
    page.wait_for_selector("ul.messagelist li")
    assert OutboxMessage.objects.filter(to=staff.email).count() == 1
    page.click(f"a[href$='/admin/newsletters/campaign/{campaign.pk}/send/']")
    page.locator("#send-confirmation").wait_for()
    assert page.locator("#send-confirmation [data-recipient-count]").inner_text() == "2"
    check(page, width, assert_accessible)
    page.click("#send-confirmation ~ form button[type=submit], form button.default")
    page.wait_for_url(f"**{change}")
    campaign.refresh_from_db()
    assert (campaign.subject_da, campaign.subject_en, campaign.status) == (
        "Nyt fra klyngen",
        "News from the cluster",
        Campaign.Status.SCHEDULED,
    )

    # The door: find the guest and check her in.
    page.goto(f"/{language}/events/{event.slug}/check-in/")
    page.fill("#checkin-q", "dora")
    page.locator(".checkin-row:visible button").first.click()
    page.wait_for_load_state()
    assert (
        page.locator("#checkin-count").inner_text() == {"da": "1 af 1 tjekket ind", "en": "1 of 1 checked in"}[language]
    )
    check(page, width, assert_accessible)
