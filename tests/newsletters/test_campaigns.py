import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from newsletters import campaigns, subscriptions
from newsletters.models import Campaign, Delivery, Subscriber
from outbox.delivery import messages_deliver
from outbox.models import OutboxMessage
from tests.factories import CampaignFactory, SubscriberFactory, TopicFactory

pytestmark = pytest.mark.django_db


def started(campaign):
    campaigns.campaign_start(campaign_id=campaign.pk)
    campaign.refresh_from_db()
    return campaign


def campaign_ids(campaign):
    return list(
        OutboxMessage.objects.filter(newsletter_delivery__campaign=campaign).order_by("pk").values_list("pk", flat=True)
    )


def test_start_fixes_one_delivery_per_confirmed_subscriber_of_the_topics(general, events_topic):
    SubscriberFactory(email="a@example.com", topics=[general])
    SubscriberFactory(email="b@example.com", topics=[general, events_topic])
    SubscriberFactory(email="c@example.com", topics=[events_topic])
    SubscriberFactory(email="pending@example.com", status="pending", topics=[general])
    SubscriberFactory(email="gone@example.com", status="unsubscribed", topics=[general])
    SubscriberFactory(email="bounced@example.com", status="bounced", topics=[general])
    campaign = started(CampaignFactory(topics=[general]))
    assert campaign.status == "sending"
    assert campaign.recipient_count == 2
    assert sorted(Delivery.objects.values_list("subscriber__email", flat=True)) == ["a@example.com", "b@example.com"]


def test_start_twice_adds_nobody(general):
    SubscriberFactory(topics=[general])
    campaign = started(CampaignFactory(topics=[general]))
    assert campaigns.campaign_start(campaign_id=campaign.pk) == 0
    assert Delivery.objects.count() == 1


def test_subscriber_gets_their_language_and_the_other_when_theirs_is_missing(general):
    SubscriberFactory(email="da@example.com", language="da", topics=[general])
    SubscriberFactory(email="en@example.com", language="en", topics=[general])
    campaign = started(CampaignFactory(topics=[general], subject_en="", body_en=""))
    languages = dict(Delivery.objects.values_list("subscriber__email", "language"))
    assert languages == {"da@example.com": "da", "en@example.com": "da"}
    assert campaign.recipient_count == 2


def test_mails_reach_the_sink_with_list_headers_both_parts_and_their_language(general, smtp_sink):
    SubscriberFactory(email="da@example.com", language="da", topics=[general])
    SubscriberFactory(email="en@example.com", language="en", topics=[general])
    campaign = started(CampaignFactory(topics=[general], subject_da="Nyt fra DLSC", subject_en="News from DLSC"))
    assert messages_deliver(ids=campaign_ids(campaign)) == {"sent": 2, "failed": 0, "skipped": 0}
    danish, english = smtp_sink.to("da@example.com")[0], smtp_sink.to("en@example.com")[0]
    assert (danish["Subject"], english["Subject"]) == ("Nyt fra DLSC", "News from DLSC")
    assert english["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert re.fullmatch(r"<http://127\.0\.0\.1:8000/en/newsletter/unsubscribe/\S+/>", english["List-Unsubscribe"])
    text = english.get_body(("plain",)).get_content()
    html = english.get_body(("html",)).get_content()
    assert "Hello **reader**." in text
    assert "<strong>reader</strong>" in html
    assert "Hej <strong>læser</strong>" in danish.get_body(("html",)).get_content()
    assert "/en/newsletter/preferences/" in text


def test_the_mailed_one_click_link_unsubscribes(general, smtp_sink):
    subscriber = SubscriberFactory(topics=[general])
    campaign = started(CampaignFactory(topics=[general]))
    messages_deliver(ids=campaign_ids(campaign))
    url = smtp_sink.messages[0]["List-Unsubscribe"].strip("<>").removeprefix("http://127.0.0.1:8000")
    response = Client(enforce_csrf_checks=True).post(
        url, data="List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.status == "unsubscribed"


def test_the_mailed_preferences_link_opens_the_page(client, general, smtp_sink):
    SubscriberFactory(topics=[general])
    campaign = started(CampaignFactory(topics=[general]))
    messages_deliver(ids=campaign_ids(campaign))
    text = smtp_sink.messages[0].get_body(("plain",)).get_content()
    url = re.search(r"http://127\.0\.0\.1:8000(/da/newsletter/preferences/\S+/)", text).group(1)
    assert client.get(url).status_code == 200


def test_an_unsubscribed_subscriber_gets_nothing_from_the_next_campaign(general, smtp_sink):
    subscriber = SubscriberFactory(topics=[general])
    subscriptions.subscriber_unsubscribe(subscriber=subscriber, source="email_link", ip_address=None)
    campaign = started(CampaignFactory(topics=[general]))
    assert campaign.recipient_count == 0


def test_paused_campaign_sends_nothing_from_batches_already_queued(general, smtp_sink):
    SubscriberFactory.create_batch(5, topics=[general])
    campaign = started(CampaignFactory(topics=[general]))
    ids = campaign_ids(campaign)
    messages_deliver(ids=ids[:2])
    campaigns.campaign_pause(campaign=campaign, by=None)
    assert messages_deliver(ids=ids) == {"sent": 0, "failed": 0, "skipped": 5}
    assert len(smtp_sink.messages) == 2


def test_resumed_campaign_sends_nobody_a_second_copy(general, smtp_sink):
    subscribers = SubscriberFactory.create_batch(5, topics=[general])
    campaign = started(CampaignFactory(topics=[general]))
    ids = campaign_ids(campaign)
    messages_deliver(ids=ids[:2])
    campaigns.campaign_pause(campaign=campaign, by=None)
    campaigns.campaign_resume(campaign=campaign, by=None)
    messages_deliver(ids=ids)
    received = sorted(message["To"] for message in smtp_sink.messages)
    assert received == sorted(subscriber.email for subscriber in subscribers)


def test_pausing_hides_waiting_rows_from_the_sweeper(general, settings):
    from outbox.delivery import outbox_sweep

    settings.OUTBOX_REQUEUE_AFTER_SECONDS = 0
    SubscriberFactory.create_batch(3, topics=[general])
    campaign = started(CampaignFactory(topics=[general]))
    campaigns.campaign_pause(campaign=campaign, by=None)
    settings.OUTBOX_DELIVER = True
    assert outbox_sweep() == {"requeued_stuck": 0, "published": 0}


def test_progress_counts_sent_failed_and_remaining(general, smtp_sink):
    SubscriberFactory.create_batch(4, topics=[general])
    campaign = started(CampaignFactory(topics=[general]))
    ids = campaign_ids(campaign)
    messages_deliver(ids=ids[:3])
    OutboxMessage.objects.filter(pk=ids[0]).update(status="failed")
    progress = campaigns.campaign_progress(campaign=campaign)
    assert (progress.total, progress.sent, progress.failed, progress.remaining, progress.percent) == (4, 2, 1, 1, 75)


def test_a_copy_whose_outbox_row_is_gone_is_not_counted_as_sent(general, smtp_sink):
    SubscriberFactory.create_batch(3, topics=[general])
    campaign = started(CampaignFactory(topics=[general]))
    ids = campaign_ids(campaign)
    messages_deliver(ids=ids[:2])
    OutboxMessage.objects.filter(pk=ids[0]).delete()
    progress = campaigns.campaign_progress(campaign=campaign)
    assert (progress.total, progress.sent, progress.failed, progress.remaining) == (3, 1, 0, 2)


def test_pause_holds_the_campaigns_copies_and_resume_releases_them(general):
    SubscriberFactory.create_batch(2, topics=[general])
    campaign = started(CampaignFactory(topics=[general]))
    campaigns.campaign_pause(campaign=campaign, by=None)
    assert set(OutboxMessage.objects.values_list("status", "group_key")) == {
        ("held", f"newsletters.campaign:{campaign.pk}")
    }
    campaigns.campaign_resume(campaign=campaign, by=None)
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {"queued"}


def test_campaign_finishes_when_every_copy_is_sent(general, smtp_sink):
    SubscriberFactory.create_batch(2, topics=[general])
    campaign = started(CampaignFactory(topics=[general]))
    messages_deliver(ids=campaign_ids(campaign))
    assert campaigns.campaign_finish_if_done(campaign_id=campaign.pk) is True
    campaign.refresh_from_db()
    assert campaign.status == "sent"


def test_campaign_does_not_finish_while_copies_wait(general):
    SubscriberFactory.create_batch(2, topics=[general])
    campaign = started(CampaignFactory(topics=[general]))
    assert campaigns.campaign_finish_if_done(campaign_id=campaign.pk) is False


def test_failed_copies_retry_with_backoff(general, settings):
    from tests.support.services import free_port

    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": free_port(), "timeout": 1},
        }
    }
    SubscriberFactory(topics=[general])
    campaign = started(CampaignFactory(topics=[general]))
    messages_deliver(ids=campaign_ids(campaign))
    message = OutboxMessage.objects.get()
    assert (message.status, message.attempts) == ("retrying", 1)
    assert message.next_attempt_at > timezone.now() + timedelta(seconds=settings.OUTBOX_RETRY_BASE_SECONDS - 5)


def test_an_unreachable_mail_server_never_bounces_the_subscriber(general, settings):
    from newsletters.tasks import campaign_batch_task
    from tests.support.services import free_port

    settings.OUTBOX_MAX_ATTEMPTS = 1
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": free_port(), "timeout": 1},
        }
    }
    subscriber = SubscriberFactory(topics=[general])
    campaign = started(CampaignFactory(topics=[general]))
    campaign_batch_task(campaign.pk, campaign_ids(campaign))
    subscriber.refresh_from_db()
    assert (subscriber.status, subscriber.bounce_score) == ("confirmed", 0)
    assert not subscriber.consent_records.filter(action="bounce").exists()
    assert OutboxMessage.objects.get().status == "retrying"
    campaign.refresh_from_db()
    assert campaign.status == "sending"


def test_tick_starts_a_due_scheduled_campaign(general):
    SubscriberFactory(topics=[general])
    campaign = CampaignFactory(topics=[general])
    campaigns.campaign_schedule(campaign=campaign, at=timezone.now() - timedelta(minutes=1), by=None)
    later = CampaignFactory(topics=[general])
    campaigns.campaign_schedule(campaign=later, at=timezone.now() + timedelta(hours=1), by=None)
    assert campaigns.newsletters_tick() == {"started": 1, "finished": 0, "paused": 0, "bounced": 0}
    assert Campaign.objects.get(pk=campaign.pk).status == "sending"
    assert Campaign.objects.get(pk=later.pk).status == "scheduled"


def test_test_send_goes_to_the_staff_member_only(general, smtp_sink):
    SubscriberFactory(topics=[general])
    campaign = CampaignFactory(topics=[general], subject_en="Hello")
    message = campaigns.campaign_send_test(campaign=campaign, to="staff@example.com", language="en")
    messages_deliver(ids=[message.pk])
    assert [(m["To"], m["Subject"]) for m in smtp_sink.messages] == [("staff@example.com", "[TEST] Hello")]
    assert Delivery.objects.count() == 0


def test_body_markup_is_sanitised(general):
    campaign = CampaignFactory(topics=[general], body_da='Hej <script>alert(1)</script><a href="javascript:x">x</a>')
    html = campaigns.campaign_content(campaign=campaign, language="da")["body_html"]
    assert "<script>" not in html
    assert "javascript:" not in html


def test_topic_hub_topics_cover_only_their_subscribers(general):
    hub_topic = TopicFactory(slug="aarhus")
    SubscriberFactory(email="hub@example.com", topics=[hub_topic])
    SubscriberFactory(email="general@example.com", topics=[general])
    started(CampaignFactory(topics=[hub_topic]))
    assert list(Delivery.objects.values_list("subscriber__email", flat=True)) == ["hub@example.com"]


def test_bounced_status_survives_a_second_failure_without_a_second_record(general):
    subscriber = SubscriberFactory(topics=[general])
    for _ in range(2):
        subscriptions.subscriber_mark_undeliverable(email=subscriber.email, status="bounced", source="delivery")
    assert Subscriber.objects.get(pk=subscriber.pk).consent_records.count() == 1


def test_batch_task_sends_every_copy_and_finishes_the_campaign(general, smtp_sink):
    from newsletters.tasks import campaign_batch_task

    SubscriberFactory.create_batch(3, topics=[general])
    campaign = started(CampaignFactory(topics=[general], subject_da="Nyt: æøå"))
    assert campaign_batch_task(campaign.pk, campaign_ids(campaign)) == {"sent": 3, "failed": 0, "skipped": 0}
    assert [message["Subject"] for message in smtp_sink.messages] == ["Nyt: æøå"] * 3
    assert smtp_sink.messages[0]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "Hej **læser**." in smtp_sink.messages[0].get_body(("plain",)).get_content()
    assert "Hej <strong>læser</strong>" in smtp_sink.messages[0].get_body(("html",)).get_content()
    assert smtp_sink.messages[0]["From"] == "DLSC <noreply@dlsc.example>"
    assert smtp_sink.messages[0]["Message-ID"].endswith(">")
    assert smtp_sink.messages[0].defects == []
    assert Campaign.objects.get(pk=campaign.pk).status == "sent"


def test_batch_stops_at_a_pause_and_hands_its_claimed_rows_back_held(general, smtp_sink):
    from outbox.delivery import messages_deliver_batch

    SubscriberFactory.create_batch(4, topics=[general])
    campaign = started(CampaignFactory(topics=[general]))
    answers = iter([True, False])

    def proceed():
        allowed = next(answers)
        if not allowed:
            campaigns.campaign_pause(campaign=campaign, by=None)
        return allowed

    assert messages_deliver_batch(ids=campaign_ids(campaign), proceed=proceed) == {
        "sent": 1,
        "failed": 0,
        "skipped": 3,
    }
    waiting = OutboxMessage.objects.exclude(status="sent")
    assert [(m.status, m.attempts, m.sending_started_at) for m in waiting] == [("held", 0, None)] * 3
    campaigns.campaign_resume(campaign=campaign, by=None)
    assert messages_deliver_batch(ids=campaign_ids(campaign))["sent"] == 3
    assert len({message["To"] for message in smtp_sink.messages}) == len(smtp_sink.messages) == 4


def test_a_long_batch_skips_rows_the_sweeper_took_back_meanwhile(general, smtp_sink, settings):
    from outbox.delivery import messages_deliver_batch

    settings.OUTBOX_STUCK_AFTER_SECONDS = 0
    SubscriberFactory.create_batch(3, topics=[general])
    campaign = started(CampaignFactory(topics=[general]))
    ids = campaign_ids(campaign)
    taken = iter([False, True, True])

    def sweeper_takes_the_last_row():
        # Stands in for the sweeper and another worker: the last row was re-queued and sent elsewhere.
        if next(taken):
            OutboxMessage.objects.filter(pk=ids[-1]).update(status="sent")
        return True

    counts = messages_deliver_batch(ids=ids, proceed=sweeper_takes_the_last_row)
    assert counts == {"sent": 2, "failed": 0, "skipped": 1}
    assert len(smtp_sink.messages) == 2


def test_a_pause_during_a_batch_stops_it_within_the_check_interval(general, smtp_sink):
    from outbox.delivery import messages_deliver_batch

    SubscriberFactory.create_batch(25, topics=[general])
    campaign = started(CampaignFactory(topics=[general]))
    gate = campaigns.campaign_sending_gate(campaign_id=campaign.pk, every=10)
    calls = iter(range(25))

    def pause_before_the_fourth_copy():
        if next(calls) == 3:
            campaigns.campaign_pause(campaign=campaign, by=None)
        return gate()

    counts = messages_deliver_batch(ids=campaign_ids(campaign), proceed=pause_before_the_fourth_copy)
    assert counts == {"sent": 10, "failed": 0, "skipped": 15}
    assert len(smtp_sink.messages) == 10
    assert set(OutboxMessage.objects.exclude(status="sent").values_list("status", "attempts")) == {("held", 0)}


def test_the_batch_task_stops_at_a_pause_within_the_check_interval(general, smtp_sink):
    from newsletters.tasks import campaign_batch_task

    SubscriberFactory.create_batch(3, topics=[general])
    campaign = started(CampaignFactory(topics=[general]))
    campaigns.campaign_pause(campaign=campaign, by=None)
    assert campaign_batch_task(campaign.pk, campaign_ids(campaign)) == {"sent": 0, "failed": 0, "skipped": 3}
    assert smtp_sink.messages == []


def test_resume_after_a_pause_within_a_batch_sends_nobody_a_second_copy(general, smtp_sink):
    from outbox.delivery import messages_deliver_batch

    SubscriberFactory.create_batch(25, topics=[general])
    campaign = started(CampaignFactory(topics=[general]))
    gate = campaigns.campaign_sending_gate(campaign_id=campaign.pk, every=10)
    calls = iter(range(25))

    def pause_before_the_fourth_copy():
        if next(calls) == 3:
            campaigns.campaign_pause(campaign=campaign, by=None)
        return gate()

    messages_deliver_batch(ids=campaign_ids(campaign), proceed=pause_before_the_fourth_copy)
    campaigns.campaign_resume(campaign=campaign, by=None)
    assert messages_deliver_batch(ids=campaign_ids(campaign))["sent"] == 15
    recipients = [message["To"] for message in smtp_sink.messages]
    assert len(recipients) == len(set(recipients)) == 25
