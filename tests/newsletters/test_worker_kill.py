import time
from collections import Counter

import pytest
from django.utils import timezone

from newsletters import campaigns
from newsletters.models import Campaign
from outbox.delivery import outbox_sweep
from outbox.models import OutboxMessage
from tests.factories import CampaignFactory, SubscriberFactory, TopicFactory

RECIPIENTS = 400


def wait_until(condition, timeout: float, step: float = 0.01):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(step)
    raise AssertionError(f"condition not met within {timeout}s")


@pytest.mark.worker
def test_worker_killed_mid_campaign_loses_nothing_and_doubles_at_most_the_mail_on_the_wire(
    celery_worker, smtp_sink, settings
):
    settings.NEWSLETTER_BATCH_SIZE = 25
    topic = TopicFactory(slug="general")
    subscribers = SubscriberFactory.create_batch(RECIPIENTS, topics=[topic])
    campaign = CampaignFactory(topics=[topic])
    first = celery_worker(concurrency=1)

    campaigns.campaign_start(campaign_id=campaign.pk)
    wait_until(lambda: len(smtp_sink.messages) >= 60, timeout=30)
    first.kill()
    killed_at = timezone.now()
    received_before = len(smtp_sink.messages)
    assert received_before < RECIPIENTS, "the worker finished before it was killed"

    # The killed batch left one row in "sending" and the rest of that batch unpublished: the sweeper finds both.
    settings.OUTBOX_REQUEUE_AFTER_SECONDS = 1
    celery_worker(concurrency=1)
    time.sleep(1.5)
    # Stuck is what was claimed before the kill. A fixed second would also take the new worker's batch in hand
    # whenever a loaded machine lets it send 25 copies more slowly than that (the worker renews its claim after a
    # third of its own, production, threshold), and those copies would go out twice.
    settings.OUTBOX_STUCK_AFTER_SECONDS = (timezone.now() - killed_at).total_seconds()
    swept_at = time.monotonic()
    outbox_sweep()
    wait_until(
        lambda: not OutboxMessage.objects.exclude(status=OutboxMessage.Status.SENT).exists(),
        timeout=settings.OUTBOX_SWEEP_INTERVAL_SECONDS,
        step=0.2,
    )
    assert time.monotonic() - swept_at < settings.OUTBOX_SWEEP_INTERVAL_SECONDS

    copies = Counter(message["To"] for message in smtp_sink.messages)
    assert set(copies) == {subscriber.email for subscriber in subscribers}
    assert sum(count - 1 for count in copies.values()) <= 1
    campaigns.newsletters_tick()
    assert Campaign.objects.get(pk=campaign.pk).status == "sent"
