"""Staff edit, save, test-send and send a newsletter campaign in the admin, in Chromium, with no console error."""

import re

import pytest

from newsletters.models import Campaign
from outbox.models import OutboxMessage
from tests.browser.journeys import staff_log_in
from tests.factories import (
    CampaignFactory,
    SubscriberFactory,
    TopicFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def topics(db):
    return {
        "general": TopicFactory(slug="general", name_da="Nyhedsbrevet", name_en="The newsletter"),
        "events": TopicFactory(slug="events", name_da="Arrangementer", name_en="Events"),
    }


def checked_topics(page) -> list[str]:
    return [label.strip() for label in page.locator("#id_topics label:has(input:checked)").all_inner_texts()]


def change_url(campaign, language="da"):
    return f"/{language}/admin/newsletters/campaign/{campaign.pk}/change/"


def test_staff_edit_subject_body_and_topics_and_save(page, topics, assert_accessible):
    campaign = CampaignFactory(topics=[topics["general"]], subject_da="Gammelt emne", subject_en="Old subject")
    staff_log_in(page)
    page.goto(change_url(campaign))
    assert_accessible(page)
    # The chosen topic is ticked, the other one is not.
    assert checked_topics(page) == ["Nyhedsbrevet"]
    assert page.get_by_label("Arrangementer").is_checked() is False

    page.fill("input[name=subject_da]", "Nyt emne")
    page.fill("input[name=subject_en]", "New subject")
    page.fill("textarea[name=body_da]", "Ny **tekst**.")
    page.get_by_label("Arrangementer").check()
    page.get_by_role("button", name="Gem", exact=True).click()
    page.wait_for_url("**/da/admin/newsletters/campaign/")
    assert page.locator("ul.messagelist li.success").count() == 1

    campaign.refresh_from_db()
    assert (campaign.subject_da, campaign.subject_en, campaign.body_da) == ("Nyt emne", "New subject", "Ny **tekst**.")
    assert sorted(campaign.topics.values_list("slug", flat=True)) == ["events", "general"]
    assert page.console_errors == []


def test_staff_save_and_continue_editing(page, topics):
    campaign = CampaignFactory(topics=[topics["general"]], subject_da="Gammelt emne")
    staff_log_in(page)
    page.goto(change_url(campaign))
    page.fill("input[name=subject_da]", "Rettet emne")
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile("^Gem og fortsæt")).click()
    assert page.url.endswith(change_url(campaign))
    assert page.locator("ul.messagelist li.success").count() == 1
    assert page.locator("input[name=subject_da]").input_value() == "Rettet emne"
    assert checked_topics(page) == ["Nyhedsbrevet"]
    assert Campaign.objects.get(pk=campaign.pk).subject_da == "Rettet emne"
    assert page.console_errors == []


def test_staff_test_send_reaches_their_outbox_without_blanking_the_form(page, topics):
    campaign = CampaignFactory(topics=[topics["general"]], subject_da="Testemne", subject_en="Test subject")
    staff = staff_log_in(page)
    page.goto(change_url(campaign))
    with page.expect_navigation():
        page.get_by_role("button", name="Send en testkopi til mig").click()
    assert page.url.endswith(change_url(campaign))
    assert page.locator("ul.messagelist li").all_inner_texts() == [
        "En testkopi af “Testemne” er på vej til signe@dlsc.example."
    ]
    assert page.locator(".errorlist").count() == 0
    assert page.locator("input[name=subject_da]").input_value() == "Testemne"
    assert page.locator("input[name=subject_en]").input_value() == "Test subject"
    assert checked_topics(page) == ["Nyhedsbrevet"]

    message = OutboxMessage.objects.get()
    assert (message.to, message.subject) == (staff.email, "[TEST] Testemne")
    assert Campaign.objects.get(pk=campaign.pk).status == "draft"
    assert page.console_errors == []


@pytest.mark.parametrize("language", ["da", "en"])
def test_send_now_asks_for_confirmation_with_count_topics_and_subjects(page, assert_accessible, topics, language):
    SubscriberFactory.create_batch(2, topics=[topics["general"]])
    SubscriberFactory(topics=[topics["general"], topics["events"]])
    SubscriberFactory(topics=[topics["events"]], status="unsubscribed")
    SubscriberFactory(topics=[])
    campaign = CampaignFactory(
        topics=[topics["general"], topics["events"]], subject_da="Dansk emne", subject_en="English subject"
    )
    staff_log_in(page, language=language)
    page.goto(change_url(campaign, language))
    page.get_by_role("link", name={"da": "Send nu", "en": "Send now"}[language], exact=True).click()
    page.wait_for_url(f"**/{language}/admin/newsletters/campaign/{campaign.pk}/send/")

    assert_accessible(page)
    summary = page.locator("#send-confirmation")
    assert summary.locator("[data-recipient-count]").inner_text() == "3"
    assert summary.locator(".campaign-topics li").all_inner_texts() == [
        "Arrangementer / Events",
        "Nyhedsbrevet / The newsletter",
    ]
    assert summary.locator(".campaign-subject[lang=da]").inner_text() == "Dansk emne"
    assert summary.locator(".campaign-subject[lang=en]").inner_text() == "English subject"
    assert Campaign.objects.get(pk=campaign.pk).status == "draft"

    # Cancel returns to the campaign and sends nothing.
    page.get_by_role("link", name={"da": "Nej, gå tilbage", "en": "No, take me back"}[language]).click()
    page.wait_for_url(f"**{change_url(campaign, language)}")
    assert Campaign.objects.get(pk=campaign.pk).status == "draft"
    assert OutboxMessage.objects.count() == 0

    # Only the confirm button sends.
    page.get_by_role("link", name={"da": "Send nu", "en": "Send now"}[language], exact=True).click()
    confirm = {"da": "Ja, send til 3 modtagere", "en": "Yes, send to 3 recipients"}[language]
    page.get_by_role("button", name=confirm).click()
    page.wait_for_url(f"**{change_url(campaign, language)}")
    assert page.locator("ul.messagelist li.success").count() == 1
    assert Campaign.objects.get(pk=campaign.pk).status == "scheduled"
    assert page.console_errors == []
