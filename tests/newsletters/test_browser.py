import re

import pytest

from newsletters import campaigns
from newsletters.models import Subscriber
from outbox.delivery import messages_deliver
from outbox.models import OutboxMessage
from tests.factories import CampaignFactory, TopicFactory


def deliver_waiting():
    ids = list(OutboxMessage.objects.filter(status="queued").order_by("pk").values_list("pk", flat=True))
    return messages_deliver(ids=ids)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_subscribe_confirm_receive_unsubscribe_and_receive_nothing_more(
    page, live_server, smtp_sink, settings, assert_accessible
):
    settings.SITE_URL = live_server.url
    topic = TopicFactory(slug="general", name_da="Nyhedsbrevet", name_en="The newsletter")

    page.goto("/en/newsletter/")
    assert_accessible(page)
    page.get_by_role("textbox", name="Email address").fill("journey@example.com")
    page.get_by_label("Name (optional)").fill("Jo Urney")
    page.get_by_label("Language of the newsletter").select_option("en")
    page.get_by_role("checkbox", name="The newsletter").check()
    page.get_by_label(re.compile("I want to receive")).check()
    page.get_by_role("button", name="Subscribe").click()
    page.get_by_role("heading", name="Check your inbox").wait_for()
    assert_accessible(page)

    deliver_waiting()
    confirmation = smtp_sink.to("journey@example.com")[0]
    link = re.search(r"http://\S+/confirm/\S+/", confirmation.get_body(("plain",)).get_content()).group(0)
    page.goto(link)
    assert_accessible(page)
    page.get_by_role("button", name="Confirm subscription").click()
    page.get_by_role("heading", name="You are subscribed").wait_for()
    assert Subscriber.objects.get(email="journey@example.com").status == "confirmed"

    campaign = CampaignFactory(topics=[topic], subject_en="Cluster news")
    campaigns.campaign_start(campaign_id=campaign.pk)
    deliver_waiting()
    newsletter = [m for m in smtp_sink.to("journey@example.com") if m["Subject"] == "Cluster news"]
    assert len(newsletter) == 1
    unsubscribe_url = newsletter[0]["List-Unsubscribe"].strip("<>")

    page.goto(unsubscribe_url)
    assert_accessible(page)
    assert Subscriber.objects.get(email="journey@example.com").status == "confirmed"
    response = page.request.post(unsubscribe_url, form={"List-Unsubscribe": "One-Click"})
    assert response.status == 200
    assert Subscriber.objects.get(email="journey@example.com").status == "unsubscribed"

    received = len(smtp_sink.messages)
    later = CampaignFactory(topics=[topic], subject_en="More news")
    assert campaigns.campaign_start(campaign_id=later.pk) == 0
    deliver_waiting()
    assert len(smtp_sink.messages) == received


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_archive_pages_are_accessible(page, live_server, assert_accessible):
    from django.utils import timezone

    campaign = CampaignFactory(status="sent", started_at=timezone.now(), finished_at=timezone.now())
    page.goto("/da/newsletter/archive/")
    assert_accessible(page)
    page.get_by_role("link", name=campaign.subject_da).click()
    page.get_by_role("heading", name=campaign.subject_da).wait_for()
    assert_accessible(page)
