"""Mail the worker renders (outbox.rendering): written with a renderer's name and arguments, rendered once, by the
delivery just before it sends or by staff opening it, in the recipient's language; cancelled, never sent, when the
renderer says it is no longer owed; retried when the renderer fails."""

import pytest
from django.urls import reverse
from django.utils import translation

from outbox import api as outbox_api
from outbox import delivery as outbox_delivery
from outbox import rendering
from outbox.models import OutboxMessage
from tests.factories import StaffFactory, staff_totp_activate

pytestmark = pytest.mark.django_db
Status = OutboxMessage.Status
calls = []


def _greeting(*, name: str, owed: bool = True, fail: bool = False) -> dict | None:
    calls.append(name)
    if fail:
        raise RuntimeError("the renderer broke")
    if not owed:
        return None
    language = translation.get_language()
    return {
        "subject": f"Hello {name} ({language})",
        "body_text": f"Dear {name}\n",
        "body_html": f"<p>Dear {name}</p>",
        "attachments": [{"filename": "a.txt", "content": "A", "mimetype": "text/plain"}],
    }


@pytest.fixture(autouse=True)
def greeting_renderer():
    calls.clear()
    rendering.mail_renderer_register(name="tests.greeting", render=_greeting)
    yield
    rendering._renderers.pop("tests.greeting")


def _later(**arguments):
    return outbox_api.mail_enqueue_later(
        renderer="tests.greeting", arguments=arguments, template="tests/greeting", to="ada@example.com", language="da"
    )


def test_a_mail_written_for_the_worker_holds_no_text_until_it_is_rendered():
    message = _later(name="Ada")
    message.refresh_from_db()
    assert (message.subject, message.body_text, message.body_html, message.attachments) == ("", "", "", [])
    assert message.render == {"renderer": "tests.greeting", "arguments": {"name": "Ada"}}
    assert (message.status, message.to, message.template) == (Status.QUEUED, "ada@example.com", "tests/greeting")
    assert calls == []


def test_delivery_renders_the_mail_once_then_sends_it(smtp_sink):
    message = _later(name="Ada")
    assert outbox_delivery.messages_deliver(ids=[message.pk]) == {"sent": 1, "failed": 0, "skipped": 0}
    received = smtp_sink.wait_for(1)
    assert [(m["To"], m["Subject"]) for m in received] == [("ada@example.com", "Hello Ada (da)")]
    message.refresh_from_db()
    assert (message.status, message.subject, message.body_text, message.render) == (
        Status.SENT,
        "Hello Ada (da)",
        "Dear Ada\n",
        {},
    )
    assert message.attachments == [{"filename": "a.txt", "content": "A", "mimetype": "text/plain"}]
    assert calls == ["Ada"]
    assert outbox_api.message_render(message) is True  # rendered before: nothing to do
    assert calls == ["Ada"]


def test_a_mail_no_longer_owed_is_cancelled_and_never_sent(smtp_sink):
    message = _later(name="Bo", owed=False)
    assert outbox_delivery.messages_deliver(ids=[message.pk]) == {"sent": 0, "failed": 0, "skipped": 1}
    message.refresh_from_db()
    assert (message.status, message.render, message.body_text) == (Status.CANCELLED, {}, "")
    assert message.last_error == "The mail was no longer owed when it was to be rendered."
    assert smtp_sink.messages == []


def test_a_renderer_that_fails_leaves_the_row_to_be_tried_again(settings, smtp_sink):
    settings.OUTBOX_MAX_ATTEMPTS = 3
    message = _later(name="Cy", fail=True)
    assert outbox_delivery.messages_deliver(ids=[message.pk]) == {"sent": 0, "failed": 1, "skipped": 0}
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Status.RETRYING, 1)
    assert message.last_error.startswith("RuntimeError: the renderer broke")
    assert message.render == {"renderer": "tests.greeting", "arguments": {"name": "Cy", "fail": True}}
    assert smtp_sink.messages == []


def test_staff_opening_a_waiting_mail_see_it_rendered(client):
    staff = StaffFactory()
    staff_totp_activate(staff)
    client.force_login(staff)
    message = _later(name="Di")
    response = client.get(reverse("admin:outbox_outboxmessage_change", args=[message.pk]))
    assert response.status_code == 200
    assert "Dear Di" in response.content.decode()
    message.refresh_from_db()
    assert (message.subject, message.render, message.status) == ("Hello Di (da)", {}, Status.QUEUED)
    assert calls == ["Di"]


def test_a_mail_rendered_by_someone_else_meanwhile_is_not_written_twice():
    message = _later(name="Ed")
    stale = OutboxMessage.objects.get(pk=message.pk)
    assert outbox_api.message_render(message) is True
    OutboxMessage.objects.filter(pk=message.pk).update(subject="Kept")
    assert outbox_api.message_render(stale) is True  # its copy still had the arguments: rendered, not written
    stale.refresh_from_db()
    assert stale.subject == "Kept"
