"""Fixtures for the newsletter tests: topics, a staff member who may use the admin, and mail delivery."""

import pytest

from outbox.delivery import messages_deliver
from outbox.models import OutboxMessage
from tests.factories import StaffFactory, TopicFactory, staff_totp_activate


@pytest.fixture
def general(db):
    return TopicFactory(slug="general", name_da="Nyhedsbrevet", name_en="The newsletter", is_default=True)


@pytest.fixture
def events_topic(db):
    return TopicFactory(slug="events", name_da="Arrangementer", name_en="Events")


@pytest.fixture
def staff(db):
    user = StaffFactory(preferred_language="en")
    staff_totp_activate(user)
    return user


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def deliver_all():
    """Send every waiting outbox row now, as a worker would, and return the counts."""

    def deliver():
        ids = list(
            OutboxMessage.objects.filter(status=OutboxMessage.Status.QUEUED).order_by("pk").values_list("pk", flat=True)
        )
        return messages_deliver(ids=ids)

    return deliver
