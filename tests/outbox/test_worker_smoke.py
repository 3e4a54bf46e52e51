import pytest
from django.db import transaction

from outbox.models import OutboxMessage
from outbox.services import mail_enqueue_rendered


@pytest.mark.worker
def test_mail_enqueued_while_worker_runs_is_delivered(celery_worker, smtp_sink):
    celery_worker()
    with transaction.atomic():
        message = mail_enqueue_rendered(
            template="test/plain", to="ada@example.com", language="en", subject="Hello", body_text="Body\n"
        )
    received = smtp_sink.wait_for(1, timeout=20)
    assert received[0]["To"] == "ada@example.com"
    assert received[0]["Subject"] == "Hello"
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENT
