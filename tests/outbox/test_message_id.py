"""A message keeps one Message-ID for all its attempts, so a receiving server can drop a copy sent twice."""

import pytest
from django.utils import timezone

from outbox import api as outbox_api
from outbox import delivery as outbox_delivery
from outbox.models import OutboxMessage


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("deliver", "attachments"),
    [
        (outbox_delivery.messages_deliver_batch, None),
        (
            outbox_delivery.messages_deliver,
            [{"filename": "a.ics", "content": "BEGIN:VCALENDAR", "mimetype": "text/calendar"}],
        ),
    ],
    ids=["bulk-fast-path", "django-message"],
)
def test_a_copy_sent_again_carries_the_message_id_of_the_first(smtp_sink, settings, deliver, attachments):
    settings.DEFAULT_FROM_EMAIL = "DLSC <noreply@dlsc.example>"
    message = outbox_api.mail_enqueue_rendered(
        template="outbox_test/plain",
        to="ada@example.com",
        language="en",
        subject="Hello",
        body_text="Body\n",
        attachments=attachments,
    )
    deliver(ids=[message.pk])
    # What the sweeper does to a row a killed worker left in "sending" after the server took the copy.
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=OutboxMessage.Status.QUEUED, next_attempt_at=timezone.now(), sending_started_at=None
    )
    deliver(ids=[message.pk])
    first, second = (received["Message-ID"] for received in smtp_sink.wait_for(2))
    message.refresh_from_db()
    assert first == second == f"<{message.message_id}>"
    assert message.message_id.endswith("@dlsc.example")


@pytest.mark.django_db
def test_two_messages_get_different_message_ids():
    first, second = (
        outbox_api.mail_enqueue_rendered(
            template="outbox_test/plain", to=to, language="en", subject="Hello", body_text="Body\n"
        )
        for to in ("ada@example.com", "bo@example.com")
    )
    assert first.message_id != second.message_id
    assert len(first.message_id) > len("@dlsc.example") + 20
