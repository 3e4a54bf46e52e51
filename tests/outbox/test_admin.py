"""Staff read every mail in the admin and send a failed one again from the changelist."""

import pytest
from allauth.mfa.models import Authenticator
from django.urls import reverse
from django.utils import translation

from outbox.api import mail_enqueue_rendered
from outbox.models import OutboxMessage
from tests.factories import StaffFactory, UserFactory, staff_totp_activate

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


def _html_mail() -> OutboxMessage:
    return mail_enqueue_rendered(
        template="outbox_test/html",
        to="reader@example.com",
        language="da",
        subject="Nyt",
        body_text="Hej\n",
        body_html='<p style="color: #123">Hej <img src="data:image/png;base64,AA=="></p>',
    )


@pytest.mark.django_db
def test_the_html_part_is_served_for_a_frame_under_its_own_strict_policy(staff_client, settings):
    settings.SITE_URL = "https://dlsc.example"
    message = _html_mail()
    response = staff_client.get(f"/en/admin/outbox/outboxmessage/{message.pk}/html/")
    assert response.status_code == 200
    assert response.content.decode() == message.body_html
    assert response["Content-Security-Policy"] == (
        "default-src 'none'; img-src 'self' data: https://dlsc.example; style-src 'unsafe-inline'; "
        "frame-ancestors 'self'; form-action 'none'; base-uri 'none'"
    )
    assert response["X-Frame-Options"] == "SAMEORIGIN"


@pytest.mark.django_db
def test_the_mail_page_frames_the_html_part_and_keeps_the_site_policy(staff_client):
    message = _html_mail()
    response = staff_client.get(f"/en/admin/outbox/outboxmessage/{message.pk}/change/")
    content = response.content.decode()
    assert (
        f'<iframe class="mail-html" src="/en/admin/outbox/outboxmessage/{message.pk}/html/" sandbox '
        'title="HTML part of the mail"></iframe>'
    ) in content
    assert '<pre class="mail-text">Hej\n</pre>' in content
    assert "&lt;p style=" not in content
    assert response["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]


@pytest.mark.django_db
def test_a_mail_without_html_has_no_frame_and_its_html_url_is_a_404(staff_client):
    message = _mail("plain@example.com", Status.SENT)
    content = staff_client.get(f"/en/admin/outbox/outboxmessage/{message.pk}/change/").content.decode()
    assert "This mail has no HTML part." in content
    assert "<iframe" not in content
    assert staff_client.get(f"/en/admin/outbox/outboxmessage/{message.pk}/html/").status_code == 404
    assert staff_client.get("/en/admin/outbox/outboxmessage/999999/html/").status_code == 404


@pytest.mark.django_db
def test_the_html_part_is_for_staff_only(client):
    message = _html_mail()
    client.force_login(UserFactory())
    response = client.get(f"/en/admin/outbox/outboxmessage/{message.pk}/html/")
    assert response.status_code == 302
    assert response["Location"].startswith("/en/admin/login/")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "pending"),
    [
        ("en", "Written when sent: events/email/registration_confirmed"),
        ("da", "Skrives, når den sendes: events/email/registration_confirmed"),
    ],
)
def test_the_changelist_names_the_template_of_a_mail_the_worker_renders_when_it_sends_it(
    staff_client, language, pending
):
    """A sign-up's mail is written with an empty subject for the worker to render: the list says which mail it is
    rather than showing nothing."""
    from outbox.api import mail_enqueue_later

    _mail("rendered@example.com", Status.QUEUED)
    mail_enqueue_later(
        renderer="events.registration_outcome",
        arguments={"registration": 1, "status": "confirmed", "position": None},
        template="events/email/registration_confirmed",
        to="later@example.com",
        language="da",
    )
    with translation.override(language):
        url = reverse("admin:outbox_outboxmessage_changelist")
    content = staff_client.get(url).content.decode()
    assert content.count(f'<span class="quiet">{pending}</span>') == 1
    assert content.count('<td class="field-subject_shown">Mail to rendered@example.com</td>') == 1
    assert (
        content.count("later@example.com: events/email/registration_confirmed") == 1
    )  # the row's name, for screen readers
