"""What a refusal means: a deferral is retried, a refused recipient fails at once, a refused session halts
delivery for everyone and tells staff, and none of it touches the rows the server never judged."""

import pytest
from django.utils import timezone

from outbox import api as outbox_api
from outbox import delivery as outbox_delivery
from outbox import smtp as outbox_smtp
from outbox.models import DeliveryHalt, OutboxMessage

pytestmark = pytest.mark.django_db
Status = OutboxMessage.Status
NO_SUCH_USER = "550 5.1.1 No such user here"
AUTH_REQUIRED = "530 5.7.0 Authentication required"


def _plain(to: str) -> OutboxMessage:
    return outbox_api.mail_enqueue_rendered(
        template="outbox_test/plain", to=to, language="en", subject="Hello", body_text="Body\n"
    )


@pytest.mark.parametrize("deliver", [outbox_delivery.messages_deliver, outbox_delivery.messages_deliver_batch])
def test_a_deferral_is_retried_and_never_fails_the_row_however_many_attempts(smtp_sink, settings, deliver):
    settings.OUTBOX_MAX_ATTEMPTS = 1
    smtp_sink.refuse(rcpt="421 4.7.0 Try again later")
    message = _plain("ada@example.com")
    assert deliver(ids=[message.pk]) == {"sent": 0, "failed": 1, "skipped": 0}
    message.refresh_from_db()
    assert (message.status, message.attempts, message.failure) == (Status.RETRYING, 1, "transient")
    assert message.last_error == "SMTPRecipientsRefused: 421 4.7.0 Try again later"


@pytest.mark.parametrize("deliver", [outbox_delivery.messages_deliver, outbox_delivery.messages_deliver_batch])
def test_a_refused_recipient_fails_at_once_and_the_others_are_sent(smtp_sink, deliver):
    smtp_sink.refuse(addresses={"gone@example.com": NO_SUCH_USER})
    first, gone, last = (_plain(to) for to in ("ada@example.com", "gone@example.com", "bo@example.com"))
    assert deliver(ids=[first.pk, gone.pk, last.pk]) == {"sent": 2, "failed": 1, "skipped": 0}
    gone.refresh_from_db()
    assert (gone.status, gone.attempts, gone.failure) == (Status.FAILED, 1, "permanent")
    assert gone.last_error == f"SMTPRecipientsRefused: {NO_SUCH_USER}"
    assert sorted(message["To"] for message in smtp_sink.messages) == ["ada@example.com", "bo@example.com"]


@pytest.mark.parametrize("deliver", [outbox_delivery.messages_deliver, outbox_delivery.messages_deliver_batch])
def test_a_refused_session_halts_delivery_and_leaves_every_row_queued(smtp_sink, settings, deliver):
    settings.OUTBOX_HALT_SECONDS = 900
    smtp_sink.refuse(mail=AUTH_REQUIRED)
    messages = [_plain(to) for to in ("ada@example.com", "bo@example.com")]
    ids = [message.pk for message in messages]

    assert deliver(ids=ids) == {"sent": 0, "failed": 0, "skipped": 2}

    halt = DeliveryHalt.objects.get()
    assert halt.reason == f"SMTPSenderRefused: {AUTH_REQUIRED}"
    assert 899 <= (halt.until - timezone.now()).total_seconds() <= 900
    assert set(OutboxMessage.objects.values_list("status", "attempts", "failure")) == {(Status.QUEUED, 0, "")}
    assert OutboxMessage.objects.get(pk=messages[0].pk).next_attempt_at == halt.until
    smtp_sink.refuse()
    assert deliver(ids=ids) == {"sent": 0, "failed": 0, "skipped": 2}
    assert outbox_delivery.outbox_sweep() == {"requeued_stuck": 0, "published": 0}
    assert smtp_sink.messages == []


def test_a_halt_shows_in_healthz_and_on_the_outbox_admin(client, staff_client, settings):
    settings.LANGUAGE_CODE = "da"
    halt = outbox_delivery.delivery_halt(reason=f"SMTPSenderRefused: {AUTH_REQUIRED}")
    health = client.get("/healthz").json()
    assert health["outbox"]["halted"] == {
        "reason": f"SMTPSenderRefused: {AUTH_REQUIRED}",
        "since": halt.created_at.isoformat(),
        "until": halt.until.isoformat(),
    }
    page = staff_client.get("/da/admin/outbox/outboxmessage/")
    assert page.status_code == 200
    assert "Afsendelse af mails er standset indtil" in page.text
    assert "mailserveren afviste forbindelsen (SMTPSenderRefused: 530 5.7.0 Authentication required)" in page.text


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("421 4.3.2 Service not available", "transient"),
        ("452 4.2.2 Mailbox full", "transient"),
        ("550 5.1.1 No such user", "permanent"),
        ("552 5.2.2 Mailbox full for good", "permanent"),
        ("550 5.7.1 Relaying denied", "session"),
        ("530 5.7.0 Authentication required", "session"),
    ],
)
def test_recipient_replies_are_classified_by_code_and_text(reply, expected):
    import smtplib

    code, text = reply.split(" ", 1)
    error = smtplib.SMTPRecipientsRefused({"ada@example.com": (int(code), text.encode())})
    assert outbox_smtp.failure_classify(error) == expected


def test_errors_without_a_recipient_reply_are_classified():
    import smtplib

    assert outbox_smtp.failure_classify(ConnectionRefusedError()) == "transient"
    assert outbox_smtp.failure_classify(TimeoutError()) == "transient"
    assert outbox_smtp.failure_classify(smtplib.SMTPServerDisconnected("gone")) == "transient"
    assert outbox_smtp.failure_classify(smtplib.SMTPAuthenticationError(535, b"5.7.8 Bad credentials")) == "session"
    assert outbox_smtp.failure_classify(smtplib.SMTPSenderRefused(553, b"5.7.1 Sender not allowed", "a@b")) == "session"
    assert outbox_smtp.failure_classify(smtplib.SMTPDataError(554, b"5.6.0 Content refused")) == "permanent"
    assert outbox_smtp.failure_classify(ValueError("bad header")) == "error"
