"""A mail server that defers (421) for a while: nobody is bounced, everyone gets exactly one copy, and a campaign
whose copies keep being deferred pauses itself and, resumed, sends each missing copy once."""

import re
import time
from collections import Counter

import pytest

from newsletters import campaigns
from newsletters.models import Campaign, Subscriber
from outbox.delivery import outbox_sweep
from outbox.models import OutboxMessage
from tests.factories import CampaignFactory, SubscriberFactory, TopicFactory

pytestmark = pytest.mark.worker
DEFERRED = "421 4.3.2 Service not available, try again later"
RECIPIENTS = 3
# The worker retries a deferred copy after 1 s, then 2 s, and gives up on anything else after two attempts.
WORKER_ENV = {"OUTBOX_RETRY_BASE_SECONDS": "1", "OUTBOX_RETRY_MAX_SECONDS": "2", "OUTBOX_MAX_ATTEMPTS": "2"}


def beat_until(condition, *, timeout: float):
    """What beat does (sweep, tick), every half second, until the condition holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        outbox_sweep()
        campaigns.newsletters_tick()
        if condition():
            return
        time.sleep(0.5)
    raise AssertionError(f"condition not met within {timeout}s")


def _deferrals(sink) -> dict:
    """How often the sink deferred each address so far, counted up to 3."""
    return {address: min(count, 3) for address, count in Counter(a for a, _ in sink.refused).items()}


def _rows():
    return OutboxMessage.objects.filter(newsletter_delivery__isnull=False)


def test_a_server_that_defers_for_a_while_bounces_nobody_and_sends_each_copy_once(celery_worker, smtp_sink, settings):
    settings.NEWSLETTER_PAUSE_AFTER_TRANSIENT_FAILURES = 100
    topic = TopicFactory(slug="general")
    subscribers = SubscriberFactory.create_batch(RECIPIENTS, topics=[topic])
    campaign = CampaignFactory(topics=[topic])
    smtp_sink.refuse(rcpt=DEFERRED)
    celery_worker(concurrency=1, extra_env=WORKER_ENV)

    campaigns.campaign_start(campaign_id=campaign.pk)
    # Every copy deferred three times: past OUTBOX_MAX_ATTEMPTS, which used to fail it and bounce its subscriber.
    beat_until(lambda: _deferrals(smtp_sink) == {subscriber.email: 3 for subscriber in subscribers}, timeout=60)
    smtp_sink.refuse()
    beat_until(lambda: not _rows().exclude(status=OutboxMessage.Status.SENT).exists(), timeout=60)
    campaigns.newsletters_tick()

    copies = Counter(message["To"] for message in smtp_sink.messages)
    print(
        f"421 test: {len(smtp_sink.refused)} deferred, {sum(copies.values())} sent, "
        f"{Subscriber.objects.filter(status='bounced').count()} bounced, "
        f"{sum(n - 1 for n in copies.values())} duplicates"
    )
    assert copies == Counter({subscriber.email: 1 for subscriber in subscribers})
    assert {refused[1] for refused in smtp_sink.refused} == {DEFERRED}
    assert set(Subscriber.objects.values_list("status", "bounce_score")) == {("confirmed", 0)}
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.SENT


def test_a_campaign_pauses_itself_on_deferrals_and_resumed_sends_each_missing_copy_once(
    celery_worker, smtp_sink, settings, staff_client
):
    settings.NEWSLETTER_PAUSE_AFTER_TRANSIENT_FAILURES = 2
    topic = TopicFactory(slug="general")
    subscribers = SubscriberFactory.create_batch(RECIPIENTS, topics=[topic])
    campaign = CampaignFactory(topics=[topic])
    smtp_sink.refuse(rcpt=DEFERRED)
    celery_worker(concurrency=1, extra_env={**WORKER_ENV, "NEWSLETTER_PAUSE_AFTER_TRANSIENT_FAILURES": "2"})

    campaigns.campaign_start(campaign_id=campaign.pk)
    beat_until(lambda: Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.PAUSED, timeout=60)
    campaign.refresh_from_db()
    # The tick that pauses may run before the batch's last copy is deferred: it counts at least the threshold.
    deferred = re.match(r"Sat på pause af sig selv: mailserveren udsatte (\d+) kopier \(", campaign.pause_reason)
    assert deferred is not None, campaign.pause_reason
    assert 2 <= int(deferred.group(1)) <= RECIPIENTS
    assert DEFERRED in campaign.pause_reason
    page = staff_client.get(f"/da/admin/newsletters/campaign/{campaign.pk}/change/")
    assert page.status_code == 200
    assert "Sat på pause af sig selv" in page.text

    smtp_sink.refuse()
    time.sleep(3)  # paused: nothing is sent, whatever the sweeper does
    outbox_sweep()
    assert smtp_sink.messages == []
    campaigns.campaign_resume(campaign=campaign, by=None)
    beat_until(lambda: not _rows().exclude(status=OutboxMessage.Status.SENT).exists(), timeout=60)
    time.sleep(2)  # a second copy would arrive now
    # The tick that found the last copies sent may have run before they were: the next one closes the campaign.
    campaigns.newsletters_tick()

    copies = Counter(message["To"] for message in smtp_sink.messages)
    assert copies == Counter({subscriber.email: 1 for subscriber in subscribers})
    assert set(Subscriber.objects.values_list("status", "bounce_score")) == {("confirmed", 0)}
    campaign.refresh_from_db()
    assert (campaign.status, campaign.pause_reason) == (Campaign.Status.SENT, "")
