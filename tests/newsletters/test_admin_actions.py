"""The campaign list's actions run the campaign service on each selected campaign through run_on_selected: a
refusal names the campaign and its status, the rest are done and counted."""

import pytest

from accounts.models import AuditEntry
from newsletters import campaigns
from newsletters.models import Campaign
from tests.factories import CampaignFactory, SubscriberFactory

pytestmark = pytest.mark.django_db
CAMPAIGNS = "/en/admin/newsletters/campaign/"


def test_pausing_a_draft_and_a_sending_campaign_pauses_one_and_names_the_other(staff_client, general):
    SubscriberFactory(topics=[general])
    draft = CampaignFactory(topics=[general], subject_en="Draft one")
    sending = CampaignFactory(topics=[general], subject_en="Sending one")
    campaigns.campaign_start(campaign_id=sending.pk)
    response = staff_client.post(
        CAMPAIGNS, {"action": "pause", "_selected_action": [draft.pk, sending.pk]}, follow=True
    )
    assert [str(message) for message in response.context["messages"]] == [
        "“Draft one”: not possible while it is Draft.",
        "1 campaign is paused.",
    ]
    assert dict(Campaign.objects.values_list("pk", "status")) == {draft.pk: "draft", sending.pk: "paused"}
    assert AuditEntry.objects.filter(action="newsletters.campaign_pause", target_id=str(sending.pk)).count() == 1


def test_the_view_pages_moved_to_admin_views_keep_their_urls(staff_client, general):
    campaign = CampaignFactory(topics=[general])
    for path in ("preview/da/", "schedule/", "send/"):
        assert staff_client.get(f"{CAMPAIGNS}{campaign.pk}/{path}").status_code == 200
    assert staff_client.get(f"{CAMPAIGNS}{campaign.pk}/control/pause/").status_code == 405
    assert staff_client.post(f"{CAMPAIGNS}{campaign.pk}/control/nothing/").status_code == 404
