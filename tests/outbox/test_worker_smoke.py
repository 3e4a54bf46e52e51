"""The smallest end-to-end delivery: a mail enqueued while a worker runs reaches the SMTP sink."""

import pytest
from django.db import transaction

from outbox.api import mail_enqueue_rendered
from outbox.models import OutboxMessage
from tests.outbox.test_delivery_workers import rows_wait_sent


@pytest.mark.worker
def test_mail_enqueued_while_worker_runs_is_delivered(celery_worker, smtp_sink):
    celery_worker()
    with transaction.atomic():
        message = mail_enqueue_rendered(
            template="test/plain", to="ada@example.com", language="en", subject="Hello", body_text="Body\n"
        )
    # The sink sees the mail a moment before the worker marks the row: wait for the row, then read the sink.
    rows_wait_sent(1, timeout=20)
    received = smtp_sink.messages
    assert [(m["To"], m["Subject"]) for m in received] == [("ada@example.com", "Hello")]
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENT
