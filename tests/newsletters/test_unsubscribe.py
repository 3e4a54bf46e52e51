import pytest
from django.test import Client

from newsletters.models import ConsentRecord
from newsletters.subscriptions import PREFERENCES_SALT, UNSUBSCRIBE_SALT, subscriber_token
from tests.factories import SubscriberFactory, UserFactory

pytestmark = pytest.mark.django_db


def unsubscribe_url(subscriber):
    return f"/da/newsletter/unsubscribe/{subscriber_token(subscriber=subscriber, salt=UNSUBSCRIBE_SALT)}/"


def preferences_url(subscriber):
    return f"/en/newsletter/preferences/{subscriber_token(subscriber=subscriber, salt=PREFERENCES_SALT)}/"


def test_one_click_post_unsubscribes_without_cookie_or_csrf_token(general):
    subscriber = SubscriberFactory(topics=[general])
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        unsubscribe_url(subscriber),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
        REMOTE_ADDR="192.0.2.44",
    )
    assert response.status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.status == "unsubscribed"
    record = subscriber.consent_records.get()
    assert (record.action, record.source, record.ip_address) == ("opt_out", "email_link", "192.0.2.44")


def test_get_shows_a_button_and_does_not_unsubscribe(client, general):
    subscriber = SubscriberFactory(topics=[general])
    response = client.get(unsubscribe_url(subscriber))
    assert response.status_code == 200
    assert 'name="List-Unsubscribe" value="One-Click"' in response.content.decode()
    subscriber.refresh_from_db()
    assert subscriber.status == "confirmed"


def test_second_unsubscribe_answers_the_same_and_records_nothing(client, general):
    subscriber = SubscriberFactory(topics=[general])
    client.post(unsubscribe_url(subscriber))
    response = client.post(unsubscribe_url(subscriber))
    assert response.status_code == 200
    assert ConsentRecord.objects.count() == 1


def test_forged_unsubscribe_token_is_a_400(client):
    subscriber = SubscriberFactory()
    response = client.post(f"/en/newsletter/unsubscribe/{subscriber.pk}:AAAA/")
    assert response.status_code == 400
    subscriber.refresh_from_db()
    assert subscriber.status == "confirmed"


def test_token_of_a_deleted_subscriber_is_a_400(client):
    subscriber = SubscriberFactory()
    url = unsubscribe_url(subscriber)
    subscriber.delete()
    assert client.get(url).status_code == 400


def test_preferences_change_topics_and_language_and_are_recorded(client, general, events_topic):
    subscriber = SubscriberFactory(topics=[general])
    response = client.post(preferences_url(subscriber), {"language": "en", "topics": ["events"]})
    assert response.status_code == 302
    subscriber.refresh_from_db()
    assert subscriber.language == "en"
    assert list(subscriber.topics.values_list("slug", flat=True)) == ["events"]
    record = subscriber.consent_records.get()
    assert (record.action, record.topics, record.language) == ("topics", ["events"], "en")


def test_preferences_with_no_topics_unsubscribe(client, general):
    subscriber = SubscriberFactory(topics=[general])
    client.post(preferences_url(subscriber), {"language": "da"})
    subscriber.refresh_from_db()
    assert subscriber.status == "unsubscribed"


def test_preferences_with_an_unknown_topic_are_a_400(client, general):
    subscriber = SubscriberFactory(topics=[general])
    response = client.post(preferences_url(subscriber), {"language": "da", "topics": ["nope"]})
    assert response.status_code == 400
    assert list(subscriber.topics.values_list("slug", flat=True)) == ["general"]


def test_account_page_shows_the_newsletter_section(client, general):
    user = UserFactory()
    client.force_login(user)
    response = client.get("/en/account/")
    assert response.status_code == 200
    assert "Newsletter topics" in response.content.decode()


def test_member_subscribes_from_the_account_without_a_confirmation_mail(client, general):
    user = UserFactory(email="member@example.com")
    client.force_login(user)
    response = client.post("/en/newsletter/account/", {"topics": ["general"]})
    assert response.status_code == 302
    subscriber = user.newsletter_subscriptions.get()
    assert subscriber.status == "confirmed"
    assert subscriber.consent_records.get().source == "account"


def test_member_clears_topics_to_unsubscribe(client, general):
    user = UserFactory(email="member@example.com")
    SubscriberFactory(email="member@example.com", topics=[general])
    client.force_login(user)
    client.post("/en/newsletter/account/", {})
    assert user.newsletter_subscriptions.count() == 0  # imported before they had an account: matched by email
    from newsletters.models import Subscriber

    assert Subscriber.objects.get(email="member@example.com").status == "unsubscribed"


def test_account_topics_need_a_login(client, general):
    response = client.post("/en/newsletter/account/", {"topics": ["general"]})
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_account_topics_with_an_unknown_topic_are_a_400(client, general):
    user = UserFactory(email="member@example.com")
    client.force_login(user)
    response = client.post("/en/newsletter/account/", {"topics": ["no-such-topic"]})
    assert response.status_code == 400
    assert "Please choose among the topics listed." in response.content.decode()
    assert user.newsletter_subscriptions.count() == 0
