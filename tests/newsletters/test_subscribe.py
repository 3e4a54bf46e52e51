import re

import pytest
from django.test import Client

from newsletters.consent import CONSENT_TEXT_VERSION
from newsletters.models import ConsentRecord, Subscriber
from outbox.models import OutboxMessage
from tests.factories import SubscriberFactory

pytestmark = pytest.mark.django_db

URL = "/en/newsletter/"


def form_data(**overrides):
    data = {
        "email": "ada@example.com",
        "name": "Ada Lovelace",
        "language": "en",
        "topics": ["general"],
        "consent": "on",
        "consent_text_version": CONSENT_TEXT_VERSION,
        "website": "",
    }
    data.update(overrides)
    return data


def confirm_link(message: OutboxMessage) -> str:
    return re.search(r"http://\S+/confirm/\S+/", message.body_text).group(0)


def test_form_shows_the_consent_text(client, general):
    response = client.get(URL)
    assert response.status_code == 200
    assert "I can unsubscribe at any time" in response.content.decode()


def test_new_address_becomes_pending_and_gets_a_confirmation_mail(client, general):
    response = client.post(URL, form_data(), REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 200
    subscriber = Subscriber.objects.get()
    assert (subscriber.email, subscriber.status, subscriber.language) == ("ada@example.com", "pending", "en")
    message = OutboxMessage.objects.get()
    assert message.template == "newsletters/email/confirm"
    assert message.to == "ada@example.com"
    assert message.subject == "Confirm your subscription to the DLSC newsletter"
    assert "/en/newsletter/confirm/" in message.body_text


def test_opt_in_is_recorded_in_the_ledger(client, general):
    client.post(URL, form_data(), REMOTE_ADDR="203.0.113.9")
    record = ConsentRecord.objects.get()
    assert (record.action, record.source, record.ip_address) == ("opt_in", "form", "203.0.113.9")
    assert record.consent_text_version == CONSENT_TEXT_VERSION
    assert record.topics == ["general"]


def test_answer_is_identical_for_new_pending_and_confirmed_addresses(client, general):
    SubscriberFactory(email="known@example.com", topics=[general])
    SubscriberFactory(email="waiting@example.com", status="pending", confirmed_at=None)
    answers = [
        client.post(URL, form_data(email=email))
        for email in ("fresh@example.com", "waiting@example.com", "known@example.com")
    ]
    assert {response.status_code for response in answers} == {200}
    bodies = {response.content.decode().replace("csrfmiddlewaretoken", "") for response in answers}
    assert len(bodies) == 1


def test_confirmed_address_gets_an_already_subscribed_mail_and_no_ledger_row(client, general):
    SubscriberFactory(email="known@example.com", topics=[general])
    client.post(URL, form_data(email="Known@Example.com"))
    message = OutboxMessage.objects.get()
    assert message.template == "newsletters/email/already_subscribed"
    assert "/en/newsletter/preferences/" not in message.body_text  # the subscriber's own language is Danish
    assert "/da/newsletter/preferences/" in message.body_text
    assert ConsentRecord.objects.count() == 0


def test_honeypot_gets_the_thanks_page_and_nothing_is_stored(client, general):
    response = client.post(URL, form_data(website="http://spam.example"))
    assert response.status_code == 200
    assert "Check your inbox" in response.content.decode()
    assert (Subscriber.objects.count(), OutboxMessage.objects.count()) == (0, 0)


def test_too_many_posts_from_one_address_answer_429(client, general, settings):
    settings.NEWSLETTER_SUBSCRIBE_RATE = (2, 3600)
    codes = [client.post(URL, form_data(email=f"p{i}@example.com")).status_code for i in range(3)]
    assert codes == [200, 200, 429]
    assert Subscriber.objects.count() == 2


def test_rate_limited_page_is_translated(client, general, settings):
    settings.NEWSLETTER_SUBSCRIBE_RATE = (1, 3600)
    assert client.post("/da/newsletter/", form_data()).status_code == 200
    response = client.post("/da/newsletter/", form_data(email="second@example.com"))
    assert response.status_code == 429
    assert "For mange forsøg" in response.content.decode()


def test_unknown_topic_is_a_400_and_nothing_is_stored(client, general):
    response = client.post(URL, form_data(topics=["no-such-topic"]))
    assert response.status_code == 400
    assert "Please choose among the topics listed." in response.content.decode()
    assert Subscriber.objects.count() == 0


def test_oversized_name_is_a_400(client, general):
    response = client.post(URL, form_data(name="x" * 101))
    assert response.status_code == 400
    assert Subscriber.objects.count() == 0


def test_markup_in_the_name_is_a_400(client, general):
    response = client.post(URL, form_data(name="<script>alert(1)</script>"))
    assert response.status_code == 400
    assert "without the characters" in response.content.decode()
    assert Subscriber.objects.count() == 0


def test_oversized_email_is_a_400(client, general):
    response = client.post(URL, form_data(email="a" * 250 + "@example.com"))
    assert response.status_code == 400


def test_missing_consent_is_a_400(client, general):
    data = form_data()
    del data["consent"]
    response = client.post(URL, data)
    assert response.status_code == 400
    assert "give your consent" in response.content.decode()


def test_confirmation_link_shows_a_button_and_does_not_confirm_on_get(client, general):
    client.post(URL, form_data())
    response = client.get(confirm_link(OutboxMessage.objects.get()))
    assert response.status_code == 200
    assert Subscriber.objects.get().status == "pending"


def test_confirmation_link_confirms_on_post_and_is_recorded(client, general):
    client.post(URL, form_data())
    response = client.post(confirm_link(OutboxMessage.objects.get()), REMOTE_ADDR="198.51.100.7")
    assert response.status_code == 200
    subscriber = Subscriber.objects.get()
    assert subscriber.status == "confirmed"
    record = subscriber.consent_records.get(action="confirm")
    assert (record.source, record.ip_address, record.consent_text_version) == (
        "email_link",
        "198.51.100.7",
        CONSENT_TEXT_VERSION,
    )


def test_expired_confirmation_link_is_a_400(client, general, settings):
    client.post(URL, form_data())
    link = confirm_link(OutboxMessage.objects.get())
    settings.NEWSLETTER_CONFIRM_MAX_AGE = -1
    response = client.post(link)
    assert response.status_code == 400
    assert "has expired" in response.content.decode()
    assert Subscriber.objects.get().status == "pending"


def test_forged_confirmation_link_is_a_400(client, general):
    subscriber = SubscriberFactory(status="pending")
    response = client.post(f"/en/newsletter/confirm/{subscriber.pk}:forged/")
    assert response.status_code == 400
    subscriber.refresh_from_db()
    assert subscriber.status == "pending"


def test_unsubscribe_token_does_not_confirm(client, general):
    from newsletters.subscriptions import UNSUBSCRIBE_SALT, subscriber_token

    subscriber = SubscriberFactory(status="pending")
    token = subscriber_token(subscriber=subscriber, salt=UNSUBSCRIBE_SALT)
    assert client.post(f"/en/newsletter/confirm/{token}/").status_code == 400


def test_event_sign_up_opt_in_through_the_service(general):
    from newsletters.subscriptions import subscription_request

    subscriber = subscription_request(
        email="guest@example.com", name="Guest", language="da", source="event", ip_address="192.0.2.1"
    )
    assert subscriber.status == "pending"
    assert list(subscriber.topics.values_list("slug", flat=True)) == ["general"]
    assert subscriber.consent_records.get().source == "event"
    assert OutboxMessage.objects.get().subject == "Bekræft dit abonnement på DLSC's nyhedsbrev"


def test_enforced_csrf_still_lets_the_form_post_with_its_token(general):
    client = Client(enforce_csrf_checks=True)
    page = client.get(URL)
    token = page.cookies["csrftoken"].value
    response = client.post(URL, {**form_data(), "csrfmiddlewaretoken": token})
    assert response.status_code == 200
