import csv
import io
from base64 import b64encode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from newsletters import campaigns, subscriptions
from newsletters.models import Campaign, ConsentRecord, Subscriber
from outbox.models import OutboxMessage
from tests.factories import CampaignFactory, SubscriberFactory

pytestmark = pytest.mark.django_db


def upload(text: str):
    return SimpleUploadedFile("list.csv", text.encode(), content_type="text/csv")


def import_post(staff_client, text, **overrides):
    data = {
        "file": upload(text),
        "topics": ["general"],
        "consented_at": "2024-03-01 10:00",
        "consent_text_version": "paper-2024",
        "source_note": "Paper form at the 2024 conference",
    }
    data.update(overrides)
    return staff_client.post("/en/admin/newsletters/subscriber/import/", data)


def test_import_creates_confirmed_subscribers_with_a_dated_consent_record(staff_client, general):
    response = import_post(staff_client, "email,name,language\nada@example.com,Ada,en\nbo@example.com,Bo,da\n")
    assert response.status_code == 302
    ada = Subscriber.objects.get(email="ada@example.com")
    assert (ada.status, ada.language) == ("confirmed", "en")
    record = ada.consent_records.get()
    assert (record.source, record.consent_text_version, record.occurred_at.year) == ("import", "paper-2024", 2024)


def test_import_with_a_bad_row_imports_nothing_and_reports_it(staff_client, general):
    response = import_post(staff_client, "email,name,language\nada@example.com,Ada,en\nnot-an-email,Bo,da\n")
    assert response.status_code == 400
    assert "line 3: invalid email address" in response.content.decode()
    assert Subscriber.objects.count() == 0


def test_import_keeps_an_earlier_opt_out(staff_client, general):
    SubscriberFactory(email="ada@example.com", status="unsubscribed")
    import_post(staff_client, "email\nada@example.com\n")
    assert Subscriber.objects.get().status == "unsubscribed"


def test_import_rejects_markup_in_names(general):
    with pytest.raises(subscriptions.ImportRejected) as rejected:
        subscriptions.subscribers_import(
            csv_text="email,name\nada@example.com,<b>Ada</b>\n",
            topics=["general"],
            consented_at=timezone.now(),
            source_note="x",
            consent_text_version="v",
            actor=None,
        )
    assert rejected.value.errors == ["line 2: the name is too long or contains markup"]


def test_consent_ledger_exports_one_subscriber_as_csv(staff_client, general):
    subscriber = SubscriberFactory(email="ada@example.com", topics=[general])
    SubscriberFactory(email="other@example.com", topics=[general])
    subscriptions.subscriber_unsubscribe(subscriber=subscriber, source="email_link", ip_address="192.0.2.1")
    response = staff_client.get(f"/en/admin/newsletters/subscriber/{subscriber.pk}/consent.csv")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [(row["email"], row["action"], row["ip_address"]) for row in rows] == [
        ("ada@example.com", "opt_out", "192.0.2.1")
    ]


def test_admin_subscriber_page_shows_the_ledger(staff_client, general):
    subscriber = SubscriberFactory(topics=[general])
    subscriptions.subscriber_unsubscribe(subscriber=subscriber, source="staff", ip_address=None)
    response = staff_client.get(f"/en/admin/newsletters/subscriber/{subscriber.pk}/change/")
    assert response.status_code == 200
    assert "Opt-out" in response.content.decode()


def test_admin_previews_both_languages(staff_client, general):
    campaign = CampaignFactory(topics=[general], subject_da="Dansk emne", subject_en="English subject")
    danish = staff_client.get(f"/en/admin/newsletters/campaign/{campaign.pk}/preview/da/")
    english = staff_client.get(f"/en/admin/newsletters/campaign/{campaign.pk}/preview/en/")
    assert "Dansk emne" in danish.content.decode()
    assert "English subject" in english.content.decode()
    assert "<strong>reader</strong>" in english.content.decode()


def test_admin_sends_a_test_copy_to_the_staff_member(staff_client, staff, general):
    campaign = CampaignFactory(topics=[general], subject_en="Hello")
    response = staff_client.post(f"/en/admin/newsletters/campaign/{campaign.pk}/control/test/")
    assert response.status_code == 302
    message = OutboxMessage.objects.get()
    assert (message.to, message.subject) == (staff.email, "[TEST] Hello")


def test_admin_send_now_schedules_for_now(staff_client, general):
    campaign = CampaignFactory(topics=[general])
    staff_client.post(f"/en/admin/newsletters/campaign/{campaign.pk}/control/send/", {"recipient_count": "0"})
    campaign.refresh_from_db()
    assert campaign.status == "scheduled"
    assert campaign.scheduled_at <= timezone.now()


def test_admin_send_now_shows_the_confirmation_and_sends_nothing(staff_client, general, events_topic):
    SubscriberFactory.create_batch(2, topics=[general, events_topic])
    SubscriberFactory(topics=[general], status="unsubscribed")
    campaign = CampaignFactory(topics=[general, events_topic], subject_da="Dansk emne", subject_en="English subject")
    response = staff_client.get(f"/en/admin/newsletters/campaign/{campaign.pk}/send/")
    assert response.status_code == 200
    content = response.content.decode()
    assert "<strong data-recipient-count>2</strong> confirmed subscribers" in content
    assert '<span lang="da">Arrangementer</span> / <span lang="en">Events</span>' in content
    assert '<span class="campaign-subject" lang="da">Dansk emne</span>' in content
    assert '<span class="campaign-subject" lang="en">English subject</span>' in content
    assert "Yes, send to 2 recipients" in content
    assert Campaign.objects.get(pk=campaign.pk).status == "draft"


@pytest.mark.parametrize("posted", [{}, {"recipient_count": "x"}, {"recipient_count": "1"}, {"recipient_count": "-1"}])
def test_admin_send_now_without_the_shown_count_is_a_400_and_sends_nothing(staff_client, general, posted):
    SubscriberFactory.create_batch(2, topics=[general])
    campaign = CampaignFactory(topics=[general])
    pages = {
        f"/en/admin/newsletters/campaign/{campaign.pk}/send/": "Yes, send to 2 recipients",
        f"/da/admin/newsletters/campaign/{campaign.pk}/control/send/": "Ja, send til 2 modtagere",
    }
    for url, button in pages.items():
        response = staff_client.post(url, posted)
        assert response.status_code == 400
        assert button in response.content.decode()
        assert 'class="errornote"' in response.content.decode()
    assert Campaign.objects.get(pk=campaign.pk).status == "draft"


def test_admin_send_now_with_the_shown_count_sends(staff_client, general):
    SubscriberFactory.create_batch(2, topics=[general])
    campaign = CampaignFactory(topics=[general])
    response = staff_client.post(f"/en/admin/newsletters/campaign/{campaign.pk}/send/", {"recipient_count": "2"})
    assert response.status_code == 302
    assert Campaign.objects.get(pk=campaign.pk).status == "scheduled"


def test_admin_send_now_of_a_sent_campaign_is_refused_with_a_message(staff_client, general):
    campaign = CampaignFactory(topics=[general], status="sent")
    response = staff_client.get(f"/en/admin/newsletters/campaign/{campaign.pk}/send/", follow=True)
    assert "that is not possible now" in response.content.decode()
    assert Campaign.objects.get(pk=campaign.pk).status == "sent"


def test_admin_send_now_action_leads_to_the_confirmation(staff_client, general):
    campaign = CampaignFactory(topics=[general])
    other = CampaignFactory(topics=[general])
    data = {"action": "send_now", "_selected_action": [campaign.pk]}
    response = staff_client.post("/en/admin/newsletters/campaign/", data)
    assert response["Location"] == f"/en/admin/newsletters/campaign/{campaign.pk}/send/"
    response = staff_client.post(
        "/en/admin/newsletters/campaign/", {**data, "_selected_action": [campaign.pk, other.pk]}
    )
    assert response.status_code == 302
    assert list(Campaign.objects.values_list("status", flat=True)) == ["draft", "draft"]


def test_admin_schedules_a_campaign(staff_client, general):
    campaign = CampaignFactory(topics=[general])
    response = staff_client.post(
        f"/en/admin/newsletters/campaign/{campaign.pk}/schedule/", {"scheduled_at": "2099-01-01 09:00"}
    )
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert (campaign.status, campaign.scheduled_at.year) == ("scheduled", 2099)


def test_admin_schedule_in_the_past_is_a_400(staff_client, general):
    campaign = CampaignFactory(topics=[general])
    response = staff_client.post(
        f"/en/admin/newsletters/campaign/{campaign.pk}/schedule/", {"scheduled_at": "2001-01-01 09:00"}
    )
    assert response.status_code == 400


def test_admin_pauses_and_resumes(staff_client, general):
    SubscriberFactory(topics=[general])
    campaign = CampaignFactory(topics=[general])
    campaigns.campaign_start(campaign_id=campaign.pk)
    staff_client.post(f"/en/admin/newsletters/campaign/{campaign.pk}/control/pause/")
    assert Campaign.objects.get(pk=campaign.pk).status == "paused"
    staff_client.post(f"/en/admin/newsletters/campaign/{campaign.pk}/control/resume/")
    assert Campaign.objects.get(pk=campaign.pk).status == "sending"


def test_admin_refuses_to_pause_a_draft_with_a_message(staff_client, general):
    campaign = CampaignFactory(topics=[general])
    response = staff_client.post(f"/en/admin/newsletters/campaign/{campaign.pk}/control/pause/", follow=True)
    assert "that is not possible now" in response.content.decode()
    assert Campaign.objects.get(pk=campaign.pk).status == "draft"


def test_admin_control_needs_a_post(staff_client, general):
    campaign = CampaignFactory(topics=[general])
    assert staff_client.get(f"/en/admin/newsletters/campaign/{campaign.pk}/control/send/").status_code == 405


def test_admin_list_shows_a_progress_bar_without_inline_styles(staff_client, general):
    SubscriberFactory.create_batch(2, topics=[general])
    campaign = CampaignFactory(topics=[general])
    campaigns.campaign_start(campaign_id=campaign.pk)
    content = staff_client.get("/en/admin/newsletters/campaign/").content.decode()
    assert '<progress class="campaign-progress" max="100" value="0"' in content
    assert "0 sent, 0 failed, 2 remaining" in content
    assert "style=" not in content


def test_admin_change_page_of_a_sending_campaign(staff_client, general):
    SubscriberFactory(topics=[general])
    campaign = CampaignFactory(topics=[general])
    campaigns.campaign_start(campaign_id=campaign.pk)
    response = staff_client.get(f"/en/admin/newsletters/campaign/{campaign.pk}/change/")
    assert response.status_code == 200
    assert "Pause sending" in response.content.decode()


def postmark_event(record_type: str, email: str, **extra) -> dict:
    return {
        "RecordType": record_type,
        "MessageStream": "outbound",
        "ID": 4323372036854775807,
        "Type": "HardBounce",
        "TypeCode": 1,
        "Name": "Hard bounce",
        "Tag": "",
        "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
        "ServerID": 23,
        "Description": "The server was unable to deliver your message (ex: unknown user, mailbox not found).",
        "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
        "Email": email,
        "From": "noreply@dlsc.example",
        "BouncedAt": "2026-11-05T16:33:54.9070259Z",
        "DumpAvailable": True,
        "Inactive": True,
        "CanActivate": True,
        "Subject": "Nyhedsbrev",
        **extra,
    }


WEBHOOK_SECRET = "hook:s3cret"


def webhook_post(client, payload, secret=WEBHOOK_SECRET):
    return client.post(
        "/webhooks/anymail/postmark/tracking/",
        data=payload,
        content_type="application/json",
        HTTP_AUTHORIZATION="Basic " + b64encode(secret.encode()).decode(),
    )


def test_bounce_webhook_marks_the_subscriber_bounced(client, general, settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": "hook:s3cret"}
    subscriber = SubscriberFactory(email="gone@example.com", topics=[general])
    assert webhook_post(client, postmark_event("Bounce", "gone@example.com")).status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.status == "bounced"
    record = subscriber.consent_records.get()
    assert (record.action, record.source) == ("bounce", "mail_provider")


def test_complaint_webhook_marks_the_subscriber_complained(client, general, settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": "hook:s3cret"}
    subscriber = SubscriberFactory(email="angry@example.com", topics=[general])
    webhook_post(client, postmark_event("SpamComplaint", "angry@example.com", Type="SpamComplaint", TypeCode=512))
    subscriber.refresh_from_db()
    assert subscriber.status == "complained"


def test_webhook_without_the_secret_is_refused(client, general, settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": "hook:s3cret"}
    subscriber = SubscriberFactory(email="gone@example.com", topics=[general])
    assert webhook_post(client, postmark_event("Bounce", "gone@example.com"), secret="hook:wrong").status_code == 400
    subscriber.refresh_from_db()
    assert subscriber.status == "confirmed"
    assert ConsentRecord.objects.count() == 0


def test_webhooks_are_off_while_no_secret_is_configured(client, general, settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": ""}
    subscriber = SubscriberFactory(email="gone@example.com", topics=[general])
    assert webhook_post(client, postmark_event("Bounce", "gone@example.com")).status_code == 404
    subscriber.refresh_from_db()
    assert subscriber.status == "confirmed"


@pytest.mark.parametrize(
    "url",
    [
        "/en/admin/newsletters/campaign/add/",
        "/en/admin/newsletters/campaign/",
        "/en/admin/newsletters/subscriber/",
        "/en/admin/newsletters/subscriber/import/",
        "/en/admin/newsletters/consentrecord/",
        "/en/admin/newsletters/topic/",
    ],
)
def test_admin_pages_open(staff_client, general, url):
    SubscriberFactory(topics=[general])
    assert staff_client.get(url).status_code == 200


def test_admin_creates_a_campaign_in_both_languages(staff_client, staff, general):
    response = staff_client.post(
        "/en/admin/newsletters/campaign/add/",
        {
            "subject_da": "Dansk emne",
            "subject_en": "English subject",
            "body_da": "Hej",
            "body_en": "Hello",
            "topics": [general.pk],
            "hub": "",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    campaign = Campaign.objects.get()
    assert (campaign.subject_da, campaign.subject_en, campaign.status, campaign.created_by) == (
        "Dansk emne",
        "English subject",
        "draft",
        staff,
    )


def test_admin_campaign_list_query_count_does_not_grow(staff_client, general, django_assert_max_num_queries):
    for _ in range(3):
        campaign = CampaignFactory(topics=[general])
        campaigns.campaign_start(campaign_id=campaign.pk)
    with django_assert_max_num_queries(12):
        assert staff_client.get("/en/admin/newsletters/campaign/").status_code == 200
