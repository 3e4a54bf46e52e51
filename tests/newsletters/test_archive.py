import pytest
from django.utils import timezone

from tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db


def sent_campaign(**kwargs):
    return CampaignFactory(status="sent", started_at=timezone.now(), finished_at=timezone.now(), **kwargs)


def test_archive_lists_only_sent_campaigns_newest_first(client):
    older = sent_campaign(subject_en="Older")
    newer = sent_campaign(subject_en="Newer")
    newer.finished_at = older.finished_at + timezone.timedelta(days=1)
    newer.save()
    CampaignFactory(subject_en="Draft")
    content = client.get("/en/newsletter/archive/").content.decode()
    assert content.index("Newer") < content.index("Older")
    assert "Draft" not in content


def test_archive_shows_each_language_version(client):
    campaign = sent_campaign(subject_da="Dansk emne", subject_en="English subject")
    assert "Dansk emne" in client.get(f"/da/newsletter/archive/{campaign.pk}/").content.decode()
    assert "English subject" in client.get(f"/en/newsletter/archive/{campaign.pk}/").content.decode()


def test_archive_falls_back_to_danish_when_english_is_missing(client):
    campaign = sent_campaign(subject_da="Kun dansk", subject_en="", body_en="")
    assert "Kun dansk" in client.get(f"/en/newsletter/archive/{campaign.pk}/").content.decode()


def test_unsent_campaign_permalink_is_a_404(client):
    campaign = CampaignFactory()
    assert client.get(f"/en/newsletter/archive/{campaign.pk}/").status_code == 404


def test_atom_feed_lists_sent_campaigns(client):
    sent_campaign(subject_en="In the feed")
    response = client.get("/en/newsletter/archive/feed/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    assert "<title>In the feed</title>" in response.content.decode()


@pytest.mark.parametrize("count", [1, 5])
def test_archive_query_count_does_not_grow_with_rows(client, django_assert_num_queries, count):
    for _ in range(count):
        sent_campaign()
    with django_assert_num_queries(2):
        assert client.get("/en/newsletter/archive/").status_code == 200
