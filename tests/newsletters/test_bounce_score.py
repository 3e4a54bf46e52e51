"""A copy the mail server refuses for its recipient (5xx) adds to the subscriber's bounce score, as GNU Mailman
does: at most once a day, from 0 again after a quiet week, and bounced only at the threshold."""

from datetime import timedelta

import pytest
from django.utils import timezone

from newsletters import campaigns
from newsletters.models import Subscriber
from newsletters.tasks import campaign_batch_task
from outbox.models import OutboxMessage
from tests.factories import CampaignFactory, SubscriberFactory

pytestmark = pytest.mark.django_db
NO_SUCH_USER = "550 5.1.1 No such user here"


def _campaign_refused(*, general, smtp_sink, subscriber) -> None:
    smtp_sink.refuse(addresses={subscriber.email: NO_SUCH_USER})
    campaign = CampaignFactory(topics=[general])
    campaigns.campaign_start(campaign_id=campaign.pk)
    ids = list(
        OutboxMessage.objects.filter(newsletter_delivery__campaign=campaign).values_list("pk", flat=True).order_by("pk")
    )
    campaign_batch_task(campaign.pk, ids)


def test_a_refused_copy_adds_one_to_the_score_once_and_the_subscriber_stays(general, smtp_sink, settings):
    settings.NEWSLETTER_BOUNCE_SCORE_THRESHOLD = 5
    subscriber = SubscriberFactory(topics=[general])
    other = SubscriberFactory(topics=[general])
    _campaign_refused(general=general, smtp_sink=smtp_sink, subscriber=subscriber)
    campaigns.newsletters_tick()
    campaigns.newsletters_tick()
    subscriber.refresh_from_db()
    assert (subscriber.status, subscriber.bounce_score) == (Subscriber.Status.CONFIRMED, 1)
    assert [message["To"] for message in smtp_sink.messages] == [other.email]


def test_the_refusal_that_reaches_the_threshold_marks_the_subscriber_bounced(general, smtp_sink, settings):
    settings.NEWSLETTER_BOUNCE_SCORE_THRESHOLD = 5
    subscriber = SubscriberFactory(topics=[general])
    Subscriber.objects.filter(pk=subscriber.pk).update(
        bounce_score=4, last_bounce_at=timezone.now() - timedelta(days=2)
    )
    _campaign_refused(general=general, smtp_sink=smtp_sink, subscriber=subscriber)
    subscriber.refresh_from_db()
    assert (subscriber.status, subscriber.bounce_score) == (Subscriber.Status.BOUNCED, 5)
    record = subscriber.consent_records.get(action="bounce")
    assert (record.source, record.note) == ("delivery", f"SMTPRecipientsRefused: {NO_SUCH_USER}")


def test_a_second_refusal_on_the_same_day_does_not_count(general, smtp_sink):
    subscriber = SubscriberFactory(topics=[general])
    Subscriber.objects.filter(pk=subscriber.pk).update(bounce_score=4, last_bounce_at=timezone.now())
    _campaign_refused(general=general, smtp_sink=smtp_sink, subscriber=subscriber)
    subscriber.refresh_from_db()
    assert (subscriber.status, subscriber.bounce_score) == (Subscriber.Status.CONFIRMED, 4)


def test_a_score_whose_last_bounce_is_stale_starts_again(general, smtp_sink, settings):
    settings.NEWSLETTER_BOUNCE_INFO_STALE_DAYS = 7
    subscriber = SubscriberFactory(topics=[general])
    Subscriber.objects.filter(pk=subscriber.pk).update(
        bounce_score=4, last_bounce_at=timezone.now() - timedelta(days=8)
    )
    _campaign_refused(general=general, smtp_sink=smtp_sink, subscriber=subscriber)
    subscriber.refresh_from_db()
    assert (subscriber.status, subscriber.bounce_score) == (Subscriber.Status.CONFIRMED, 1)
