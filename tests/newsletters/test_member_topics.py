"""Newsletter topics reserved for members: a membership type names the topics it includes; the forms offer them
only to people whose membership includes them, and the services refuse them to everyone else."""

import pytest
from django.core.exceptions import ValidationError

from newsletters import subscriptions
from newsletters.consent import CONSENT_TEXT_VERSION
from newsletters.models import ConsentRecord, Subscriber
from tests.factories import (
    MembershipFactory,
    MembershipTypeFactory,
    OrganisationRoleFactory,
    SubscriberFactory,
    TopicFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def insight(general):
    """A topic the type "Insight member" includes; `general` is open to everyone."""
    topic = TopicFactory(slug="member-insight", name_da="Medlemsindsigt", name_en="Member insight")
    membership_type = MembershipTypeFactory(newsletter_topics=["member-insight"])
    member = UserFactory(preferred_language="en")
    role = OrganisationRoleFactory(user=member, role="admin")
    MembershipFactory(organisation=role.organisation, membership_type=membership_type)
    return topic, member


def subscribe_data(**overrides):
    return {
        "email": "ada@example.com",
        "name": "Ada",
        "language": "en",
        "topics": ["general"],
        "consent": "on",
        "consent_text_version": CONSENT_TEXT_VERSION,
        "website": "",
        **overrides,
    }


def test_the_public_form_does_not_offer_a_members_topic_and_refuses_it(client, insight):
    page = client.get("/en/newsletter/").content.decode()
    assert ('value="general"' in page, 'value="member-insight"' in page) == (True, False)
    response = client.post("/en/newsletter/", subscribe_data(topics=["general", "member-insight"]))
    assert response.status_code == 400
    assert "Please choose among the topics listed." in response.content.decode()
    assert (Subscriber.objects.count(), ConsentRecord.objects.count()) == (0, 0)


def test_the_service_refuses_a_members_topic_to_someone_not_signed_in(insight):
    with pytest.raises(ValidationError) as error:
        subscriptions.subscription_request(
            email="ada@example.com",
            name="Ada",
            language="en",
            topics=["member-insight"],
            source=ConsentRecord.Source.FORM,
            ip_address=None,
        )
    assert error.value.code == "topic_reserved"
    assert Subscriber.objects.count() == 0


def test_a_member_whose_type_includes_the_topic_chooses_it_on_the_account_page(client, insight):
    _topic, member = insight
    client.force_login(member)
    assert 'value="member-insight"' in client.get("/en/account/").content.decode()
    response = client.post("/en/newsletter/account/", {"topics": ["general", "member-insight"]})
    assert response.status_code == 302
    subscriber = Subscriber.objects.get(email=member.email)
    assert (subscriber.status, sorted(subscriber.topics.values_list("slug", flat=True))) == (
        "confirmed",
        ["general", "member-insight"],
    )


def test_someone_else_signed_in_is_not_offered_the_topic_and_is_refused(client, insight):
    other = UserFactory(preferred_language="en")
    client.force_login(other)
    assert 'value="member-insight"' not in client.get("/en/account/").content.decode()
    response = client.post("/en/newsletter/account/", {"topics": ["member-insight"]})
    assert response.status_code == 400
    assert Subscriber.objects.filter(email=other.email).exists() is False


def test_a_subscriber_whose_membership_ended_may_still_take_the_topic_away(client, insight):
    topic, _member = insight
    subscriber = SubscriberFactory(email="former@example.com", topics=[topic], user=None)
    # Kept: the topic they have stays on their preferences page and may be unticked, never added back.
    updated = subscriptions.subscriber_preferences_update(
        subscriber=subscriber, language="en", topics=[topic], source=ConsentRecord.Source.EMAIL_LINK, ip_address=None
    )
    assert list(updated.topics.values_list("slug", flat=True)) == ["member-insight"]
    general = subscriptions.Topic.objects.get(slug="general")
    updated = subscriptions.subscriber_preferences_update(
        subscriber=subscriber, language="en", topics=[general], source=ConsentRecord.Source.EMAIL_LINK, ip_address=None
    )
    assert list(updated.topics.values_list("slug", flat=True)) == ["general"]
    with pytest.raises(ValidationError):
        subscriptions.subscriber_preferences_update(
            subscriber=updated,
            language="en",
            topics=[general, topic],
            source=ConsentRecord.Source.EMAIL_LINK,
            ip_address=None,
        )
