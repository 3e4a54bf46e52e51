"""Staff read every mail in the admin and send a failed one again from the changelist."""

import pytest
from allauth.mfa.models import Authenticator
from django.urls import reverse
from django.utils import translation

from outbox.models import OutboxMessage
from outbox.services import mail_enqueue_rendered
from tests.factories import StaffFactory, staff_totp_activate

Status = OutboxMessage.Status


@pytest.fixture
def staff_client(client):
    staff = StaffFactory()
    staff_totp_activate(staff)
    assert Authenticator.objects.filter(user=staff, type=Authenticator.Type.TOTP).count() == 1
    client.force_login(staff)
    return client


def _mail(to: str, status: str) -> OutboxMessage:
    message = mail_enqueue_rendered(
        template="outbox_test/plain", to=to, language="da", subject=f"Mail to {to}", body_text="Body\n"
    )
    OutboxMessage.objects.filter(pk=message.pk).update(status=status, attempts=6, last_error="SMTPDataError: 554")
    return message


def _changelist() -> str:
    with translation.override("en"):
        return reverse("admin:outbox_outboxmessage_changelist")


@pytest.mark.django_db
def test_the_resend_action_queues_a_failed_mail_again_with_fresh_attempts(staff_client):
    failed = _mail("failed@example.com", Status.FAILED)
    response = staff_client.post(_changelist(), {"action": "resend", "_selected_action": [failed.pk]})
    assert response.status_code == 302
    failed.refresh_from_db()
    assert (failed.status, failed.attempts, failed.sending_started_at) == (Status.QUEUED, 0, None)


@pytest.mark.django_db
def test_the_resend_action_leaves_sent_and_sending_mail_alone(staff_client):
    sent = _mail("sent@example.com", Status.SENT)
    sending = _mail("sending@example.com", Status.SENDING)
    failed = _mail("failed@example.com", Status.FAILED)
    response = staff_client.post(
        _changelist(), {"action": "resend", "_selected_action": [sent.pk, sending.pk, failed.pk]}, follow=True
    )
    assert "1 mail queued again." in [str(m) for m in response.context["messages"]]
    assert dict(OutboxMessage.objects.values_list("to", "status")) == {
        "sent@example.com": Status.SENT,
        "sending@example.com": Status.SENDING,
        "failed@example.com": Status.QUEUED,
    }


@pytest.mark.django_db
def test_staff_read_a_mail_with_its_body_and_last_error(staff_client):
    failed = _mail("failed@example.com", Status.FAILED)
    with translation.override("en"):
        url = reverse("admin:outbox_outboxmessage_change", args=[failed.pk])
    response = staff_client.get(url)
    assert response.status_code == 200
    content = response.content.decode()
    assert "Mail to failed@example.com" in content
    assert "SMTPDataError: 554" in content


@pytest.mark.django_db
def test_the_changelist_shows_each_mail_with_its_status_badge(staff_client):
    _mail("failed@example.com", Status.FAILED)
    _mail("sent@example.com", Status.SENT)
    content = staff_client.get(_changelist()).content.decode()
    assert content.count('<span class="status-badge status-failed">Failed</span>') == 1
    assert content.count('<span class="status-badge status-sent">Sent</span>') == 1


@pytest.mark.django_db
def test_staff_without_a_second_factor_are_sent_to_set_one_up(client):
    client.force_login(StaffFactory())
    response = client.get(_changelist())
    assert response.status_code == 302
    assert response["Location"] == "/en/accounts/2fa/totp/activate/"
